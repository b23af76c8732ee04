/**
 * Vended credentials in the shapes engines already consume: the AWS CLI's `credential_process`, shell
 * variables, the AWS container-credentials endpoint, Iceberg REST `config` maps, Unity Catalog temporary
 * credentials, Spark/Hadoop S3A per-bucket settings and `~/.aws/config` profiles. Pure: no I/O.
 */

/** What every format is built from: a role session (fast path) or a gateway key (slow-path fallback). */
export interface VendedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Absent for static keys (gateway keys, keypair connections). */
  readonly sessionToken?: string | undefined;
  /** ISO-8601; absent for static keys. */
  readonly expiration?: string | undefined;
  readonly region: string;
  /** S3 endpoint; absent = AWS's. */
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly bucket: string;
  /** '' or a prefix ending in '/'. */
  readonly prefix: string;
}

/** The container-credentials endpoint, as `rolegate exec` puts it in `AWS_CONTAINER_CREDENTIALS_FULL_URI`. */
export const CONTAINER_CREDENTIALS_PATH = '/api/exec/credentials';

/** ISO-8601 without milliseconds (`2030-01-01T12:00:00Z`), the form AWS's own endpoints use. */
export function awsTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The `credential_process` output (AWS CLI and SDKs; Version 1). */
export function processFormat(c: VendedCredentials): Record<string, string | number> {
  const out: Record<string, string | number> = {
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
  };
  if (c.sessionToken !== undefined) out.SessionToken = c.sessionToken;
  // Without Expiration the SDKs treat the keys as static and never ask again: right for static keys only.
  if (c.expiration !== undefined) out.Expiration = awsTimestamp(c.expiration);
  return out;
}

/** The AWS container-credentials endpoint answer (`AWS_CONTAINER_CREDENTIALS_FULL_URI`). */
export function containerFormat(c: VendedCredentials): ContainerCredentials {
  const out: ContainerCredentials = { AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey };
  if (c.sessionToken !== undefined) out.Token = c.sessionToken;
  if (c.expiration !== undefined) out.Expiration = awsTimestamp(c.expiration);
  return out;
}

export interface ContainerCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  Token?: string;
  Expiration?: string;
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The variables of the AWS environment-credentials provider, plus region and endpoint. */
export function envVariables(c: VendedCredentials): Record<string, string> {
  const vars: Record<string, string> = {
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
  };
  if (c.sessionToken !== undefined) vars.AWS_SESSION_TOKEN = c.sessionToken;
  if (c.expiration !== undefined) vars.AWS_CREDENTIAL_EXPIRATION = awsTimestamp(c.expiration);
  vars.AWS_REGION = c.region;
  vars.AWS_DEFAULT_REGION = c.region;
  if (c.endpoint !== undefined) {
    vars.AWS_ENDPOINT_URL_S3 = c.endpoint;
  }
  return vars;
}

/** `export NAME=value` lines for `eval "$(rolegate credentials --format env …)"`. */
export function envFormat(c: VendedCredentials): string {
  return Object.entries(envVariables(c))
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');
}

/** `s3://bucket/prefix` of the credentials' scope. */
export function s3Location(c: Pick<VendedCredentials, 'bucket' | 'prefix'>): string {
  return `s3://${c.bucket}/${c.prefix}`;
}

/**
 * An Iceberg REST-style `config` map (the keys of Iceberg's S3FileIO and its vended-credentials refresh).
 * `refreshEndpoint` is where the client asks again before `s3.session-token-expires-at-ms`.
 */
export function icebergConfig(c: VendedCredentials, refreshEndpoint?: string): Record<string, string> {
  const config: Record<string, string> = {
    's3.access-key-id': c.accessKeyId,
    's3.secret-access-key': c.secretAccessKey,
  };
  if (c.sessionToken !== undefined) config['s3.session-token'] = c.sessionToken;
  if (c.expiration !== undefined) config['s3.session-token-expires-at-ms'] = String(Date.parse(c.expiration));
  config['client.region'] = c.region;
  if (c.endpoint !== undefined) config['s3.endpoint'] = c.endpoint;
  config['s3.path-style-access'] = String(c.forcePathStyle);
  if (refreshEndpoint !== undefined && c.sessionToken !== undefined) {
    config['client.refresh-credentials-endpoint'] = refreshEndpoint;
  }
  return config;
}

/** Iceberg REST `LoadCredentialsResponse`: what a refresh endpoint answers. */
export function icebergLoadCredentials(c: VendedCredentials, refreshEndpoint?: string) {
  return { 'storage-credentials': [{ prefix: s3Location(c), config: icebergConfig(c, refreshEndpoint) }] };
}

/** A Unity Catalog-style temporary credentials body (`generateTemporaryTableCredentials`). */
export function ucFormat(c: VendedCredentials) {
  return {
    aws_temp_credentials: {
      access_key_id: c.accessKeyId,
      secret_access_key: c.secretAccessKey,
      ...(c.sessionToken !== undefined ? { session_token: c.sessionToken } : {}),
    },
    ...(c.expiration !== undefined ? { expiration_time: Date.parse(c.expiration) } : {}),
    url: s3Location(c),
  };
}

/** Hadoop S3A's provider for session credentials given in the configuration. */
export const S3A_TEMPORARY_PROVIDER = 'org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider';
/** Hadoop S3A's provider for static keys given in the configuration. */
export const S3A_SIMPLE_PROVIDER = 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider';
/**
 * Hadoop S3A's container/instance provider: it reads `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN` first (Hadoop 3.3 and 3.4), and refreshes before expiry.
 */
export const S3A_CONTAINER_PROVIDER = 'org.apache.hadoop.fs.s3a.auth.IAMInstanceCredentialsProvider';

/** Where the S3A settings of one bucket come from. */
export type SparkBucketSource =
  | { readonly kind: 'static'; readonly credentials: VendedCredentials }
  | {
      readonly kind: 'container';
      readonly bucket: string;
      readonly region: string;
      readonly endpoint?: string | undefined;
      readonly forcePathStyle: boolean;
    };

/** `spark.hadoop.fs.s3a.bucket.<bucket>.*` settings, one `key=value` per entry, for `--properties-file`. */
export function sparkBucketConf(source: SparkBucketSource): Array<[string, string]> {
  const target = source.kind === 'static' ? source.credentials : source;
  const p = `spark.hadoop.fs.s3a.bucket.${target.bucket}`;
  const out: Array<[string, string]> = [];
  if (target.endpoint !== undefined) out.push([`${p}.endpoint`, target.endpoint]);
  out.push([`${p}.endpoint.region`, target.region]);
  out.push([`${p}.path.style.access`, String(target.forcePathStyle)]);
  if (source.kind === 'container') {
    out.push([`${p}.aws.credentials.provider`, S3A_CONTAINER_PROVIDER]);
    return out;
  }
  const c = source.credentials;
  out.push([
    `${p}.aws.credentials.provider`,
    c.sessionToken !== undefined ? S3A_TEMPORARY_PROVIDER : S3A_SIMPLE_PROVIDER,
  ]);
  out.push([`${p}.access.key`, c.accessKeyId]);
  out.push([`${p}.secret.key`, c.secretAccessKey]);
  if (c.sessionToken !== undefined) out.push([`${p}.session.token`, c.sessionToken]);
  return out;
}

/** Java properties-file escaping of a value (what `spark-submit --properties-file` reads). */
export function propertiesValue(value: string): string {
  return value
    .replaceAll('\\', '\\\\')
    .replaceAll('\n', '\\n')
    .replace(/^\s/, (m) => `\\${m}`);
}

/** One `~/.aws/config` profile that gets its credentials from `credential_process`. */
export interface AwsProfile {
  readonly name: string;
  readonly credentialProcess: string;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
}

export const AWS_CONFIG_BEGIN = '# BEGIN rolegate (generated by `rolegate aws-config`; edits inside are replaced)';
export const AWS_CONFIG_END = '# END rolegate';

/** The rolegate block of `~/.aws/config`: one profile per connection. */
export function awsConfigBlock(profiles: readonly AwsProfile[]): string {
  const lines = [AWS_CONFIG_BEGIN];
  for (const p of profiles) {
    lines.push(`[profile ${p.name}]`, `credential_process = ${p.credentialProcess}`, `region = ${p.region}`);
    if (p.endpoint !== undefined) lines.push(`endpoint_url = ${p.endpoint}`);
    if (p.forcePathStyle) lines.push('s3 =', '  addressing_style = path');
    lines.push('');
  }
  lines.push(AWS_CONFIG_END);
  return `${lines.join('\n')}\n`;
}

/** `existing` with its rolegate block replaced by `block` (or `block` appended); everything else kept. */
export function mergeAwsConfig(existing: string, block: string): string {
  const start = existing.indexOf(AWS_CONFIG_BEGIN);
  const end = existing.indexOf(AWS_CONFIG_END, start);
  if (start >= 0 && end > start) {
    let after = end + AWS_CONFIG_END.length;
    if (existing[after] === '\n') after++;
    return existing.slice(0, start) + block + existing.slice(after);
  }
  const sep = existing === '' || existing.endsWith('\n\n') ? '' : existing.endsWith('\n') ? '\n' : '\n\n';
  return existing + sep + block;
}
