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

function statementsFor(scope: Scope, partition: AwsPartition, compact: boolean): Statement[] {
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
  const statements = [...bucketStatements, ...objectStatements];
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
export function buildSessionPolicy(scope: Scope | null, partition: AwsPartition = 'aws'): string {
  if (scope === null) return serialise([DENY_ALL]);
  checkScope(scope);
  const full = serialise(statementsFor(scope, partition, false));
  if (full.length <= MAX_SESSION_POLICY_CHARS) return full;
  const compact = serialise(statementsFor(scope, partition, true));
  if (compact.length <= MAX_SESSION_POLICY_CHARS) return compact;
  throw invalidInput(
    'policy.too_large',
    `The bucket name and path are too long for an STS session policy (${compact.length} characters, ` +
      `limit ${MAX_SESSION_POLICY_CHARS}); use a shorter path`,
  );
}
