/**
 * Scope-down session policies passed to AssumeRole, so STS itself enforces the scope even if a client
 * holding the role session ignores rolegate. Exact actions only: never `s3:*`.
 */
import { invalidInput } from '../errors/errors.js';
import type { Scope } from './model.js';
import type { AwsPartition } from './role-arn.js';

/** STS limit on the plaintext session policy (the `Policy` parameter of AssumeRole). */
export const MAX_SESSION_POLICY_CHARS = 2048;

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: { StringLike: { 's3:prefix': string[] } };
}

const READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging'];
const WRITE_ACTIONS = [
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  's3:PutObjectTagging',
];

/** Wide enough for legacy us-east-1 names and Ceph RGW; nothing that needs escaping in an ARN or JSON. */
const BUCKET = /^[A-Za-z0-9._-]{1,255}$/;

const DENY_ALL: Statement = { Sid: 'DenyAll', Effect: 'Deny', Action: '*', Resource: '*' };

function serialise(statements: Statement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function checkScope(scope: Scope): void {
  if (!BUCKET.test(scope.bucket)) {
    throw invalidInput('policy.invalid_bucket', 'The bucket name is not valid for an S3 session policy');
  }
  // IAM reads `*` and `?` in a resource or StringLike value as wildcards: they would widen the grant.
  if (/[*?]/.test(scope.prefix)) {
    throw invalidInput(
      'policy.wildcard_in_path',
      'The path contains "*" or "?", which an STS session policy would read as a wildcard',
    );
  }
  // IAM substitutes `${...}` policy variables (e.g. `${aws:username}`) in resources and conditions.
  if (scope.prefix.includes('${')) {
    throw invalidInput(
      'policy.variable_in_path',
      'The path contains "${", which an STS session policy would read as a policy variable',
    );
  }
}

const GLUE_READ = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'];
const GLUE_WRITE = [
  'glue:CreateTable',
  'glue:UpdateTable',
  'glue:DeleteTable',
  'glue:CreatePartition',
  'glue:BatchCreatePartition',
];

/**
 * Glue rights for the bound database only. Glue ARNs need the catalog's account: without one (a role ARN with no
 * account, as on Ceph RGW, which has no Glue and refuses glue actions in session policies) nothing is added.
 */
function glueStatements(scope: Scope, partition: AwsPartition, account: string, compact: boolean): Statement[] {
  // A role without an account is not an AWS role (Ceph RGW's have none, and RGW refuses glue actions).
  if (scope.glue === undefined || account === '') return [];
  const catalog = scope.glue.catalogId ?? account;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(scope.glue.database) || !/^([a-z0-9-]{1,32}|\*)$/.test(scope.glue.region)) {
    throw invalidInput('policy.invalid_glue', 'The Glue database or region is not valid for a session policy');
  }
  const base = `arn:${partition}:glue:${scope.glue.region}:${catalog}`;
  const statement: Statement = {
    Sid: 'Glue',
    Effect: 'Allow',
    Action: scope.access === 'read-write' ? [...GLUE_READ, ...GLUE_WRITE] : GLUE_READ,
    Resource: [`${base}:catalog`, `${base}:database/${scope.glue.database}`, `${base}:table/${scope.glue.database}/*`],
  };
  if (!compact) return [statement];
  const { Sid: _sid, ...rest } = statement;
  return [rest];
}

function statementsFor(scope: Scope, partition: AwsPartition, compact: boolean, account = ''): Statement[] {
  const bucketArn = `arn:${partition}:s3:::${scope.bucket}`;
  const objectsArn = `${bucketArn}/${scope.prefix}*`;
  const bucketStatements: Statement[] =
    scope.prefix === ''
      ? [
          {
            Sid: 'List',
            Effect: 'Allow',
            Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation'],
            Resource: bucketArn,
          },
        ]
      : [
          {
            Sid: 'List',
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: bucketArn,
            // The prefix ends in '/', so `sales/*` does not reach `sales-archive/`.
            Condition: { StringLike: { 's3:prefix': [`${scope.prefix}*`] } },
          },
          // Separate because GetBucketLocation carries no s3:prefix, so the condition above would deny it.
          { Sid: 'BucketLocation', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: bucketArn },
        ];
  const write = scope.access === 'read-write';
  const objectStatements: Statement[] = compact
    ? [{ Effect: 'Allow', Action: write ? [...READ_ACTIONS, ...WRITE_ACTIONS] : READ_ACTIONS, Resource: objectsArn }]
    : [
        { Sid: 'Read', Effect: 'Allow', Action: READ_ACTIONS, Resource: objectsArn },
        ...(write ? [{ Sid: 'Write', Effect: 'Allow' as const, Action: WRITE_ACTIONS, Resource: objectsArn }] : []),
      ];
  const statements = [...bucketStatements, ...objectStatements, ...glueStatements(scope, partition, account, compact)];
  return compact ? statements.map(({ Sid: _sid, ...rest }) => rest) : statements;
}

/**
 * The compact JSON session policy that limits a role session to `scope`; `null` denies everything.
 *
 * When the policy would exceed {@link MAX_SESSION_POLICY_CHARS}, Read and Write are merged and Sids dropped.
 * @param partition of the role, so the S3 ARNs match it (China, GovCloud).
 * @throws RolegateError `policy.too_large` when even the compact form is too long; `policy.wildcard_in_path`,
 *   `policy.variable_in_path` or `policy.invalid_bucket` when the scope cannot be expressed exactly.
 */
export function buildSessionPolicy(scope: Scope | null, partition: AwsPartition = 'aws', account = ''): string {
  if (scope === null) return serialise([DENY_ALL]);
  checkScope(scope);
  const full = serialise(statementsFor(scope, partition, false, account));
  if (full.length <= MAX_SESSION_POLICY_CHARS) return full;
  const compact = serialise(statementsFor(scope, partition, true, account));
  if (compact.length <= MAX_SESSION_POLICY_CHARS) return compact;
  throw invalidInput(
    'policy.too_large',
    `The bucket name and path are too long for an STS session policy (${compact.length} characters, ` +
      `limit ${MAX_SESSION_POLICY_CHARS}); use a shorter path`,
  );
}
