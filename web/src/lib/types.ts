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
  allowedRoles?: string[];
  sessionNameTemplate?: string;
}

export interface Listing {
  prefix: string;
  folders: string[];
  objects: Array<{ key: string; size: number; lastModified?: string; etag?: string }>;
  nextCursor?: string;
}

/** Every error body of the API. */
export interface ErrorBody {
  code: string;
  message: string;
  requestId?: string;
  details?: Record<string, string | number | boolean>;
}
