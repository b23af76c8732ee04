import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { AccessKeyPair, BackendFacts } from './local-backend.js';

// Any region signs fine against RGW, but CreateBucket with another region sends a
// LocationConstraint that RGW (zonegroup "default") rejects.
const REGION = 'us-east-1';
const INLINE_POLICY_NAME = 'prefix-access';

/** An S3 client for the local backend (path-style: RGW on 127.0.0.1 has no bucket DNS names). */
export function backendS3Client(credentials: AccessKeyPair, endpoint: string): S3Client {
  return new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: copyOf(credentials) });
}

/** Creates `bucket` unless the same user already owns it. */
export async function createBucket(credentials: AccessKeyPair, endpoint: string, bucket: string): Promise<void> {
  const s3 = backendS3Client(credentials, endpoint);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (httpStatusOf(err) !== 409) throw err;
    // 409 also means "exists, owned by someone else": only our own bucket counts as done.
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (headErr) {
      throw new Error(`bucket ${bucket} already exists and belongs to another user`, { cause: headErr });
    }
  } finally {
    s3.destroy();
  }
}

/** Puts small text objects, `{ key: body }`, into `bucket`. */
export async function putObjects(
  credentials: AccessKeyPair,
  endpoint: string,
  bucket: string,
  objects: Readonly<Record<string, string>>,
): Promise<void> {
  const s3 = backendS3Client(credentials, endpoint);
  try {
    await Promise.all(
      Object.entries(objects).map(([key, body]) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentTypeOf(key) })),
      ),
    );
  } finally {
    s3.destroy();
  }
}

export interface PrefixRoleSpec {
  endpoint: string;
  /** A user with IAM role rights (cap `roles=*`): the backend's admin or master. */
  credentials: AccessKeyPair;
  roleName: string;
  /** Who may assume the role, e.g. the broker's master user `arn:aws:iam:::user/master`. */
  trustedPrincipalArn: string;
  bucket: string;
  /** Key prefix the role may use; `''` for the whole bucket, otherwise it must end in `/`. */
  prefix: string;
  /** Only applied when the role is created: RGW 16 has no UpdateRole. Default 3600. */
  maxSessionDurationSeconds?: number;
}

/**
 * Creates (or brings up to date) a role that `trustedPrincipalArn` may assume and whose inline policy
 * allows listing, reading, writing, deleting and multipart uploads under `bucket/prefix` only.
 * Returns the role ARN (`arn:aws:iam:::role/NAME`).
 */
export async function createRoleWithPrefixPolicy(spec: PrefixRoleSpec): Promise<string> {
  if (spec.prefix !== '' && !spec.prefix.endsWith('/')) {
    // `sales*` would also grant the look-alike sibling `sales-archive/`.
    throw new Error(`prefix must be empty or end with '/', got '${spec.prefix}'`);
  }
  const iam = new IAMClient({ endpoint: spec.endpoint, region: REGION, credentials: copyOf(spec.credentials) });
  try {
    const trust = JSON.stringify(trustPolicy(spec.trustedPrincipalArn));
    let arn: string | undefined;
    try {
      const created = await iam.send(
        new CreateRoleCommand({
          RoleName: spec.roleName,
          AssumeRolePolicyDocument: trust,
          MaxSessionDuration: spec.maxSessionDurationSeconds ?? 3600,
        }),
      );
      arn = created.Role?.Arn;
    } catch (err) {
      // RGW's IAM error bodies do not parse in the SDK (name 'Unknown'); only the status is reliable.
      if (httpStatusOf(err) !== 409) throw err;
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: spec.roleName, PolicyDocument: trust }));
      arn = (await iam.send(new GetRoleCommand({ RoleName: spec.roleName }))).Role?.Arn;
    }
    // PutRolePolicy replaces a policy of the same name, so reruns converge.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: spec.roleName,
        PolicyName: INLINE_POLICY_NAME,
        PolicyDocument: JSON.stringify(prefixPolicy(spec.bucket, spec.prefix)),
      }),
    );
    return arn ?? `arn:aws:iam:::role/${spec.roleName}`;
  } finally {
    iam.destroy();
  }
}

export interface DemoSeedOptions {
  /** Default `datalake`. Tests pass their own so parallel files do not share state. */
  bucket?: string;
  /** Prepended to role names (`sales-role`, `marketing-role`); role names are global per backend. */
  roleNamePrefix?: string;
}

export interface DemoSeed {
  bucket: string;
  salesRoleArn: string;
  marketingRoleArn: string;
  /** Every object key written, with its body. */
  objects: Readonly<Record<string, string>>;
}

/**
 * Seeds the demo data set: a bucket with CSVs under `sales/`, `marketing/` and the look-alike sibling
 * `sales-archive/` (which `sales-role` must not reach), and the roles `sales-role` and `marketing-role`
 * that the master user may assume. Idempotent.
 */
export async function seedDemo(
  backend: Pick<BackendFacts, 'endpoint' | 'admin' | 'masterArn'>,
  options: DemoSeedOptions = {},
): Promise<DemoSeed> {
  const bucket = options.bucket ?? 'datalake';
  const rolePrefix = options.roleNamePrefix ?? '';
  const objects: Record<string, string> = {
    'sales/2024/q1.csv': 'region,revenue\nnorth,1200\nsouth,950\n',
    'sales/2024/q2.csv': 'region,revenue\nnorth,1340\nsouth,1010\n',
    'marketing/campaigns.csv': 'campaign,budget\nspring-launch,5000\nsummer-sale,3200\n',
    'sales-archive/old.csv': 'region,revenue\nnorth,800\n',
  };
  await createBucket(backend.admin, backend.endpoint, bucket);
  await putObjects(backend.admin, backend.endpoint, bucket, objects);
  const role = (roleName: string, prefix: string) =>
    createRoleWithPrefixPolicy({
      endpoint: backend.endpoint,
      credentials: backend.admin,
      roleName,
      trustedPrincipalArn: backend.masterArn,
      bucket,
      prefix,
    });
  const [salesRoleArn, marketingRoleArn] = await Promise.all([
    role(`${rolePrefix}sales-role`, 'sales/'),
    role(`${rolePrefix}marketing-role`, 'marketing/'),
  ]);
  return { bucket, salesRoleArn, marketingRoleArn, objects };
}

function trustPolicy(principalArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: [principalArn] }, Action: ['sts:AssumeRole'] }],
  };
}

function prefixPolicy(bucket: string, prefix: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: [`arn:aws:s3:::${bucket}`],
        // A List without a prefix has no s3:prefix key, which a condition would deny.
        ...(prefix === '' ? {} : { Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
      },
      { Effect: 'Allow', Action: ['s3:GetBucketLocation'], Resource: [`arn:aws:s3:::${bucket}`] },
      {
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        Resource: [`arn:aws:s3:::${bucket}/${prefix}*`],
      },
    ],
  };
}

// The SDK annotates the credentials object it is handed, so it gets its own (a frozen one makes it throw).
function copyOf(pair: AccessKeyPair): AccessKeyPair {
  return { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey };
}

function contentTypeOf(key: string): string {
  return key.endsWith('.csv') ? 'text/csv' : 'text/plain';
}

/** The HTTP status of an AWS SDK error, the one field RGW's STS/IAM errors reliably carry. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const metadata = err.$metadata;
  if (typeof metadata !== 'object' || metadata === null || !('httpStatusCode' in metadata)) return undefined;
  return typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}
