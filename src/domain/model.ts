/**
 * The words of rolegate (see DESIGN.md) as plain data. No I/O, no secrets: secret material lives in
 * the vault (encrypted at rest) and is only decrypted inside the credential engine.
 */

export type UserRole = 'admin' | 'analyst';

/** Who asks. Built by authentication; admin properties are admin-set key/values on the user. */
export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly role: UserRole;
  readonly groups: readonly string[];
  readonly adminProperties: Readonly<Record<string, string>>;
  /**
   * Set when the caller acts through a rolegate session (a notebook, a job, a CLI shell): its id, and the role
   * it currently uses for connections whose role ARN template is `${sessionRole}` (absent: none entitled).
   */
  readonly session?: { readonly id: string; readonly roleArn?: string | undefined } | undefined;
}

/** Who a rule admits. `nobody` is only meaningful for detailsReadableBy and signingAllowedBy. */
export type AccessRule =
  | { readonly kind: 'everyone' }
  | { readonly kind: 'nobody' }
  | { readonly kind: 'groups'; readonly groups: readonly string[] };

export type CredentialMode = 'keypair' | 'environment' | 'assume-role' | 'per-user-keypair';

/**
 * Where the master credentials of an assume-role connection come from. `web-identity`: none — the role is
 * assumed with AssumeRoleWithWebIdentity and the ID token of the caller's single sign-on session (direct mode).
 */
export type MasterSource = 'environment' | 'keypair' | 'web-identity' | 'saml';

export interface AssumeRoleSettings {
  /** Role ARN or template, e.g. `${adminProperty:salesRole}`. */
  readonly roleArn: string;
  readonly externalId?: string | undefined;
  /** 900–43200 seconds. */
  readonly durationSeconds: number;
  readonly master: MasterSource;
}

/** The S3 target of a connection. `pathInBucket` is '' (whole bucket) or a canonical prefix ending in '/'. */
export interface ConnectionTarget {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly stsEndpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  /** Ask S3 for the bucket's region and use it instead of `region`. */
  readonly useBucketRegion: boolean;
  readonly bucket: string;
  readonly pathInBucket: string;
}

export interface Connection {
  readonly name: string;
  readonly description: string;
  readonly target: ConnectionTarget;
  readonly mode: CredentialMode;
  /** Set when mode is `keypair`, or `assume-role` with master `keypair`: the public half only. */
  readonly accessKeyId?: string | undefined;
  readonly assumeRole?: AssumeRoleSettings | undefined;
  readonly usableBy: AccessRule;
  readonly detailsReadableBy: AccessRule;
  /**
   * Who may have rolegate sign their S3 requests (remote signing, presigned URLs) with their role session;
   * absent means nobody (connections stored before remote signing existed).
   */
  readonly signingAllowedBy?: AccessRule | undefined;
  /** Glob patterns (`*`, `?`) the resolved role ARN must match; empty = any valid role ARN. */
  readonly allowedRoles: readonly string[];
  /** Default `rg-${connection}-for-${user}`. */
  readonly sessionNameTemplate: string;
  readonly readOnly: boolean;
  /** Each user's scope is their own home, `<path>home/<username>/`; absent or false: the whole path. */
  readonly homeDirectories?: boolean | undefined;
}

export type ScopeAccess = 'read' | 'read-write';

/** The Glue database a grant may also use (a connection whose datasets are kept in Glue). */
export interface GlueScope {
  readonly region: string;
  readonly database: string;
  /** The Glue catalog (account id); default the role's own account. */
  readonly catalogId?: string | undefined;
}

/** What one grant may touch: always a subset of the connection's bucket + path. */
export interface Scope {
  readonly bucket: string;
  /** '' or canonical prefix ending in '/'. */
  readonly prefix: string;
  readonly access: ScopeAccess;
  readonly glue?: GlueScope | undefined;
}

/** Temporary (or static) AWS credentials. Secret fields never leave the credential engine and its transports. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** The result of obtaining credentials for (principal, connection, role, scope). */
export interface RoleSession {
  readonly credentials: AwsCredentials;
  /** Resolved role ARN, absent for non-assume-role modes. */
  readonly roleArn?: string | undefined;
  readonly sessionName?: string | undefined;
  readonly scope: Scope;
  readonly issuedAt: Date;
}

export const DEFAULT_SESSION_NAME_TEMPLATE = 'rg-${connection}-for-${user}';
