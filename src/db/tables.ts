import type { Generated } from 'kysely';

/** Table types. Times are ISO-8601 strings (portable between SQLite and PostgreSQL text columns). */
export interface UsersTable {
  id: string;
  username: string;
  role: 'admin' | 'analyst';
  created_at: string;
}

export interface GroupsTable {
  name: string;
  description: string;
  created_at: string;
}

export interface GroupMembersTable {
  group_name: string;
  user_id: string;
}

export interface UserPropertiesTable {
  user_id: string;
  name: string;
  value: string;
  updated_at: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface ConnectionsTable {
  name: string;
  /** The connection model (no secrets) as JSON. */
  spec: string;
  version: Generated<number>;
  created_at: string;
  updated_at: string;
}

/** Encrypted secrets: connection keypairs and per-user keypairs, keyed by a stable id used as AAD. */
export interface VaultSecretsTable {
  id: string;
  sealed: string;
  updated_at: string;
}

/** Audit events: the full event as canonical JSON plus indexed columns for queries; hash-chained by seq. */
export interface AuditEventsTable {
  seq: number;
  id: string;
  time: string;
  actor: string | null;
  action: string;
  connection: string | null;
  outcome: string;
  session_name: string | null;
  object_key: string | null;
  event: string;
  prev_hash: string;
  hash: string;
}

export interface AuditAnchorTable {
  id: number;
  seq: number;
  hash: string;
  archived_to: string | null;
  updated_at: string;
}

/** Per-process credentials tokens (`rolegate exec`, refreshing Spark conf): hash only, bound to one connection. */
export interface ExecTokensTable {
  id: string;
  token_hash: string;
  user_id: string;
  connection: string;
  name: string;
  prefix: string | null;
  read_only: number;
  duration_seconds: number | null;
  created_at: string;
  expires_at: string;
}

/** The role-session-name generation of (user, connection); bumped by each revocation. */
export interface SessionGenerationsTable {
  user_id: string;
  connection: string;
  generation: number;
  updated_at: string;
}

/** Role sessions STS issued (no secrets), so that revocation knows which names to deny. */
export interface IssuedRoleSessionsTable {
  user_id: string;
  connection: string;
  role_arn: string;
  session_name: string;
  expires_at: string;
}

/** One revoked role session: the record, and what the role's deny policy is rebuilt from until `deny_until`. */
export interface SessionRevocationsTable {
  id: string;
  user_id: string;
  username: string;
  connection: string;
  role_arn: string;
  role_id: string;
  session_name: string;
  revoked_by: string;
  revoked_at: string;
  deny_until: string;
}

/** Gateway keys: SigV4 key pairs of the S3 gateway, one user each; the secret sealed (AAD: `gateway-key/<id>`). */
export interface GatewayKeysTable {
  access_key_id: string;
  user_id: string;
  name: string;
  sealed_secret: string;
  created_at: string;
}

export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  user_properties: UserPropertiesTable;
  api_tokens: ApiTokensTable;
  connections: ConnectionsTable;
  vault_secrets: VaultSecretsTable;
  audit_events: AuditEventsTable;
  audit_anchor: AuditAnchorTable;
  exec_tokens: ExecTokensTable;
  session_generations: SessionGenerationsTable;
  issued_role_sessions: IssuedRoleSessionsTable;
  session_revocations: SessionRevocationsTable;
  gateway_keys: GatewayKeysTable;
  datasets: DatasetsTable;
  dataset_writes: DatasetWritesTable;
  dataset_write_files: DatasetWriteFilesTable;
  catalog_bindings: CatalogBindingsTable;
  user_sessions: UserSessionsTable;
  user_idp_roles: UserIdpRolesTable;
  mounts: MountsTable;
  shared_role_sessions: SharedRoleSessionsTable;
  oidc_identities: OidcIdentitiesTable;
  session_web_identities: SessionWebIdentitiesTable;
  pending_uploads: PendingUploadsTable;
  login_states: LoginStatesTable;
  sts_budgets: StsBudgetsTable;
}

/** A token bucket of the STS budget: tokens left (negative: calls waiting) as of `updated_ms` (epoch ms). */
export interface StsBudgetsTable {
  identity_hash: string;
  tokens: number;
  updated_ms: number;
}

/** Single-use sign-in state: a pending login, a CLI code, a SAML request id or a seen assertion id. */
export interface LoginStatesTable {
  kind: string;
  /** SHA-256 (hex) of the key: the state, code or id is never stored as such. */
  key_hash: string;
  /** The value, sealed with the vault key and bound to kind and key. */
  sealed: string;
  expires_at: string;
}

/** A role session one instance obtained, for the others (PostgreSQL); `sealed` holds credentials and all. */
export interface SharedRoleSessionsTable {
  /** SHA-256 of the engine's cache key (user, connection version, role, session name, scope). */
  key: string;
  user_id: string;
  connection: string;
  sealed: string;
  refresh_at: string;
  expires_at: string;
}

/** Managed datasets; columns, partition columns and the manifest (current files) as JSON. */
export interface DatasetsTable {
  id: string;
  project: string;
  name: string;
  connection: string;
  location: string;
  format: string;
  columns: string;
  partition_columns: string;
  description: string;
  owner: string;
  catalog: string;
  glue_database: string | null;
  manifest: string;
  version: number;
  created_at: string;
  updated_at: string;
}

/** One write of a dataset: open → committed, or aborted/failed; `cleaned` once its staging folder is empty. */
export interface DatasetWritesTable {
  id: string;
  dataset_id: string;
  user_id: string;
  username: string;
  mode: string;
  partition: string;
  state: string;
  cleaned: number;
  created_at: string;
  updated_at: string;
}

/** Files completely staged by a write, with the schema found in each. */
export interface DatasetWriteFilesTable {
  write_id: string;
  name: string;
  size: number;
  rows: number;
  columns: string;
  header_bytes: number | null;
  ends_with_newline: number;
  created_at: string;
}

/** A connection whose datasets are also kept in an AWS Glue database (no row: the internal catalog only). */
export interface CatalogBindingsTable {
  connection: string;
  kind: string;
  glue_database: string;
  region: string | null;
  endpoint: string | null;
  catalog_id: string | null;
  updated_at: string;
}

/** Rolegate sessions: a token of their own (SHA-256 only) and the role they currently use. */
export interface UserSessionsTable {
  id: string;
  user_id: string;
  token_hash: string;
  name: string;
  role_arn: string | null;
  created_at: string;
  expires_at: string;
}

/** Roles an identity provider entitled a user to, replaced at each login. */
export interface UserIdpRolesTable {
  user_id: string;
  role_arn: string;
  provider: string;
  updated_at: string;
}

/** Admin-defined mounts: a rolegate path bound to a connection + prefix, optionally to a role. */
export interface MountsTable {
  path: string;
  connection: string;
  prefix: string;
  role_arn: string | null;
  description: string;
  created_at: string;
}

/** An identity provider's subject, linked to the rolegate user it signs in as. */
export interface OidcIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: string;
}

/** A session's ID token (direct mode) for AssumeRoleWithWebIdentity, sealed with the vault key. */
export interface SessionWebIdentitiesTable {
  session_id: string;
  sealed_token: string;
  expires_at: string;
}

/**
 * A multipart upload rolegate started (user API: its own streamed upload; gateway: a client's) and has not yet
 * seen completed or aborted. `instance_id`: the instance streaming a user-API upload (kept alive by
 * `heartbeat_at`), or the instance sweeping the record; null when nobody holds it.
 */
export interface PendingUploadsTable {
  bucket: string;
  upload_id: string;
  /** The full key in the bucket. */
  object_key: string;
  origin: 'api' | 'gateway';
  connection: string;
  user_id: string;
  session_id: string | null;
  instance_id: string | null;
  created_at: string;
  heartbeat_at: string;
}
