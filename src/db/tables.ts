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

export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  user_properties: UserPropertiesTable;
  api_tokens: ApiTokensTable;
  connections: ConnectionsTable;
  vault_secrets: VaultSecretsTable;
}
