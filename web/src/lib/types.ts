/**
 * The REST API's shapes, as the UI uses them (the contract is the OpenAPI description at /docs/json and
 * the route files under src/modules). Secret fields exist only on inputs: the API never returns them.
 */

export type AccessRule = 'everyone' | 'nobody' | { groups: string[] };
export type CredentialsMode = 'environment' | 'keypair' | 'per-user-keypair' | 'assume-role';
export type MasterSource = 'environment' | 'keypair';

export interface Me {
  username: string;
  role: 'admin' | 'analyst';
  groups: string[];
  propertyNames: string[];
  createdAt: string;
}
export type User = Me;

export interface Group {
  name: string;
  description: string;
  createdAt: string;
  members: string[];
}

export interface TokenInfo {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** Returned once, by token creation. */
export interface IssuedToken {
  id: string;
  name: string;
  token: string;
  expiresAt: string | null;
}

export interface ConnectionView {
  name: string;
  description: string;
  bucket: string;
  path: string;
  region: string;
  endpoint?: string;
  stsEndpoint?: string;
  forcePathStyle: boolean;
  useBucketRegion: boolean;
  readOnly: boolean;
  credentials: {
    mode: CredentialsMode;
    accessKeyId?: string;
    roleArn?: string;
    externalIdSet?: boolean;
    /** Not a secret (AWS says so); shown so that an edit keeps it. */
    externalId?: string;
    durationSeconds?: number;
    master?: MasterSource;
    secretStored?: boolean;
  };
  usableBy: AccessRule;
  detailsReadableBy: AccessRule;
  /** Who rolegate signs S3 requests and presigns URLs for (remote signing); absent: nobody. */
  signingAllowedBy?: AccessRule;
  allowedRoles: string[];
  sessionNameTemplate: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type CredentialsInput =
  | { mode: 'environment' }
  | { mode: 'per-user-keypair' }
  | { mode: 'keypair'; accessKeyId: string; secretAccessKey?: string }
  | {
      mode: 'assume-role';
      roleArn: string;
      externalId?: string;
      durationSeconds?: number;
      master?: MasterSource;
      accessKeyId?: string;
      secretAccessKey?: string;
    };

/** The body of POST /api/connections and PUT /api/connections/{name}. */
export interface ConnectionInput {
  name: string;
  description?: string;
  bucket: string;
  path?: string;
  region?: string;
  endpoint?: string;
  stsEndpoint?: string;
  forcePathStyle?: boolean;
  useBucketRegion?: boolean;
  readOnly?: boolean;
  credentials: CredentialsInput;
  usableBy?: AccessRule;
  detailsReadableBy?: AccessRule;
  signingAllowedBy?: AccessRule;
  allowedRoles?: string[];
  sessionNameTemplate?: string;
}

export interface Listing {
  prefix: string;
  folders: string[];
  objects: Array<{ key: string; size: number; lastModified?: string; etag?: string }>;
  nextCursor?: string;
}

/** POST /api/connections/{name}/presign: a URL straight to S3, signed with the user's role session. */
export interface PresignedUrl {
  url: string;
  method: 'GET' | 'PUT';
  expiresAt: string;
  expiresSeconds: number;
  bucket: string;
  key: string;
}

/** Every error body of the API. */
export interface ErrorBody {
  code: string;
  message: string;
  requestId?: string;
  details?: Record<string, string | number | boolean>;
}

export type AuditOutcome = 'requested' | 'allowed' | 'denied' | 'error';

/** One audit event (GET /api/audit). It never holds a secret, token or property value. */
export interface AuditEvent {
  seq: number;
  id: string;
  time: string;
  requestId?: string;
  actor?: string;
  authMethod?: string;
  sourceIp?: string;
  userAgent?: string;
  action: string;
  connection?: string;
  roleArn?: string;
  sessionName?: string;
  accessKeyId?: string;
  bucket?: string;
  key?: string;
  bytes?: number;
  outcome: AuditOutcome;
  reasonCode?: string;
  durationMs?: number;
  details?: Record<string, string | number | boolean>;
  prevHash: string;
  hash: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  nextBefore?: number;
}

/** GET /api/audit/verify. */
export type ChainVerdict = { anchorSeq: number; checked: number } & (
  | { ok: true; head: { seq: number; hash: string } }
  | { ok: false; seq: number; reason: string }
);

/** GET /api/explain: the whole access decision, computed without touching S3 or STS. */
export interface Explanation {
  user: string;
  connection: string;
  allowed: boolean;
  denial?: { code: string; reason: string };
  steps: Array<{ rule: string; outcome: 'pass' | 'fail' | 'not-checked'; detail: string }>;
  /** Names only. */
  propertiesUsed: string[];
  roleArn?: string;
  sessionName?: string;
  sessionPolicy?: unknown;
  key?: string;
  path: 'fast' | 'slow' | 'none';
}

export type RoleSource = { kind: 'idp'; provider: string } | { kind: 'property'; property: string };

/** GET /api/me/roles. */
export interface EntitledRoles {
  roles: Array<{ roleArn: string; sources: RoleSource[] }>;
  /** Present when signed in with a session token. */
  session?: { id: string; roleArn?: string };
}

export interface SessionView {
  id: string;
  name: string;
  roleArn: string | null;
  createdAt: string;
  expiresAt: string;
}

/** Returned once, by session creation. */
export interface CreatedSession extends SessionView {
  token: string;
}

/** GET /api/me/fast-path: per usable connection, whether credentials are vended (`direct`) or not. */
export interface FastPath {
  connections: Array<{
    name: string;
    access: 'direct' | 'gateway';
    reason?: string;
    bucket: string;
    path: string;
    region: string;
    endpoint?: string;
    forcePathStyle: boolean;
    readOnly: boolean;
  }>;
  /** The S3 gateway, when it runs. */
  gateway?: { endpoint: string; region: string };
}
export type FastPathEntry = FastPath['connections'][number];

export interface GatewayKey {
  accessKeyId: string;
  name: string;
  createdAt: string;
}

/** Returned once, by gateway key creation. */
export interface IssuedGatewayKey extends GatewayKey {
  secretAccessKey: string;
}
