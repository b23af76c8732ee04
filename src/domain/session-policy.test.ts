// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import type { Scope } from './model.js';
import { buildSessionPolicy, MAX_SESSION_POLICY_CHARS } from './session-policy.js';

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}
interface Policy {
  Version: string;
  Statement: PolicyStatement[];
}

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

function parse(policy: string): Policy {
  return JSON.parse(policy) as Policy;
}

function actions(p: Policy): string[] {
  return p.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

const read: Scope = { bucket: 'data', prefix: 'sales/', access: 'read' };
const readWrite: Scope = { ...read, access: 'read-write' };
const wholeBucket: Scope = { bucket: 'data', prefix: '', access: 'read-write' };

describe('buildSessionPolicy', () => {
  it('scopes a prefix: conditional list, bucket location, read', () => {
    const policy = buildSessionPolicy(read);
    expect(policy).not.toMatch(/\s/);
    expect(parse(policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'List',
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::data',
          Condition: { StringLike: { 's3:prefix': ['sales/*'] } },
        },
        { Sid: 'BucketLocation', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: 'arn:aws:s3:::data' },
        {
          Sid: 'Read',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging'],
          Resource: 'arn:aws:s3:::data/sales/*',
        },
      ],
    });
  });

  it('adds Write only for read-write', () => {
    const p = parse(buildSessionPolicy(readWrite));
    expect(p.Statement.map((s) => s.Sid)).toEqual(['List', 'BucketLocation', 'Read', 'Write']);
    expect(p.Statement[3]).toEqual({
      Sid: 'Write',
      Effect: 'Allow',
      Action: [
        's3:PutObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
        's3:PutObjectTagging',
      ],
      Resource: 'arn:aws:s3:::data/sales/*',
    });
    expect(actions(parse(buildSessionPolicy(read)))).not.toContain('s3:PutObject');
  });

  it('leaves out ListBucketMultipartUploads when scoped to a prefix', () => {
    expect(actions(parse(buildSessionPolicy(readWrite)))).not.toContain('s3:ListBucketMultipartUploads');
  });

  it('lists the whole bucket without a condition when the prefix is empty', () => {
    const p = parse(buildSessionPolicy(wholeBucket));
    expect(p.Statement[0]).toEqual({
      Sid: 'List',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation'],
      Resource: 'arn:aws:s3:::data',
    });
    expect(p.Statement.map((s) => s.Sid)).toEqual(['List', 'Read', 'Write']);
    expect(p.Statement[1]?.Resource).toBe('arn:aws:s3:::data/*');
  });

  it('never grants wildcard actions and only allows', () => {
    for (const scope of [read, readWrite, wholeBucket]) {
      const p = parse(buildSessionPolicy(scope));
      for (const action of actions(p)) expect(action).toMatch(/^s3:[A-Za-z]+$/);
      expect(p.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    }
  });

  it('does not let sales/ reach sales-archive/', () => {
    const policy = buildSessionPolicy(read);
    expect(policy).toContain('"arn:aws:s3:::data/sales/*"');
    expect(policy).toContain('["sales/*"]');
    expect(policy).not.toMatch(/sales\*/);
  });

  it('denies everything for an empty scope', () => {
    expect(parse(buildSessionPolicy(null))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenyAll', Effect: 'Deny', Action: '*', Resource: '*' }],
    });
  });

  it('uses the partition of the role in S3 ARNs', () => {
    expect(buildSessionPolicy(read, 'aws-cn')).toContain('"arn:aws-cn:s3:::data/sales/*"');
    expect(buildSessionPolicy(read, 'aws-us-gov')).not.toContain('arn:aws:s3');
  });

  it('escapes quotes and backslashes in the prefix as JSON', () => {
    const prefix = 'a\\"]}},{"Effect":"Allow","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::other/';
    const p = parse(buildSessionPolicy({ bucket: 'data', prefix, access: 'read' }));
    expect(p.Statement).toHaveLength(3);
    expect(p.Statement[2]?.Resource).toBe(`arn:aws:s3:::data/${prefix}*`);
    expect(p.Statement[0]?.Condition).toEqual({ StringLike: { 's3:prefix': [`${prefix}*`] } });
    expect(actions(p)).not.toContain('s3:DeleteBucket');
  });

  it.each(['sal*/', 'sales?/', '*/', 'a/?/'])('refuses the wildcard prefix %j', (prefix) => {
    const e = caught(() => buildSessionPolicy({ bucket: 'data', prefix, access: 'read' }));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('policy.wildcard_in_path');
  });

  it('refuses a prefix that IAM would read as a policy variable', () => {
    const e = caught(() => buildSessionPolicy({ bucket: 'data', prefix: '${aws:username}/', access: 'read' }));
    expect(e.code).toBe('policy.variable_in_path');
    expect(() => buildSessionPolicy({ bucket: 'data', prefix: 'cost$/', access: 'read' })).not.toThrow();
  });

  it.each(['da"ta', 'data*', 'da?ta', 'data/x', '', 'a b', 'x'.repeat(256), '${aws:username}'])(
    'refuses the bucket %j',
    (bucket) => {
      const e = caught(() => buildSessionPolicy({ bucket, prefix: '', access: 'read' }));
      expect(e.code).toBe('policy.invalid_bucket');
    },
  );

  describe('size guard', () => {
    const scopeWith = (n: number): Scope => ({ bucket: 'data', prefix: `${'p'.repeat(n)}/`, access: 'read-write' });

    it('keeps the full form while it fits', () => {
      const policy = buildSessionPolicy(scopeWith(400));
      expect(policy.length).toBeLessThanOrEqual(MAX_SESSION_POLICY_CHARS);
      expect(parse(policy).Statement.map((s) => s.Sid)).toEqual(['List', 'BucketLocation', 'Read', 'Write']);
    });

    it('compacts a long path: merges Read and Write and drops Sids, granting the same', () => {
      const scope = scopeWith(600);
      const policy = buildSessionPolicy(scope);
      expect(policy.length).toBeLessThanOrEqual(MAX_SESSION_POLICY_CHARS);
      const p = parse(policy);
      expect(p.Statement.every((s) => s.Sid === undefined)).toBe(true);
      expect(p.Statement).toHaveLength(3);
      expect(p.Statement[2]?.Resource).toBe(`arn:aws:s3:::data/${scope.prefix}*`);
      expect(actions(p).sort()).toEqual(actions(parse(buildSessionPolicy(scopeWith(10)))).sort());
    });

    it('compacts a read-only scope too', () => {
      const p = parse(buildSessionPolicy({ ...scopeWith(600), access: 'read' }));
      expect(actions(p)).not.toContain('s3:PutObject');
      expect(actions(p)).toContain('s3:GetObject');
    });

    it('refuses a path too long even after compaction', () => {
      const e = caught(() => buildSessionPolicy(scopeWith(800)));
      expect(e.kind).toBe('InvalidInput');
      expect(e.code).toBe('policy.too_large');
      expect(e.message).toContain('too long for an STS session policy');
    });

    it('never returns a policy over the limit', () => {
      for (let n = 1; n < 1100; n += 7) {
        try {
          expect(buildSessionPolicy(scopeWith(n)).length).toBeLessThanOrEqual(MAX_SESSION_POLICY_CHARS);
        } catch (e) {
          expect(isRolegateError(e) && e.code === 'policy.too_large').toBe(true);
        }
      }
    });
  });
});

describe('buildSessionPolicy: Glue database of a bound connection', () => {
  const glue = { region: 'eu-west-1', database: 'sales_db' };
  const parse = (json: string) =>
    JSON.parse(json) as { Statement: Array<{ Sid?: string; Action: string[]; Resource: string[] }> };

  it('grants the bound database only, in the role account, read-only for read scopes', () => {
    const rw = parse(
      buildSessionPolicy({ bucket: 'b', prefix: 'p/', access: 'read-write', glue }, 'aws', '123456789012'),
    );
    const g = rw.Statement.find((s) => s.Sid === 'Glue');
    expect(g?.Resource).toEqual([
      'arn:aws:glue:eu-west-1:123456789012:catalog',
      'arn:aws:glue:eu-west-1:123456789012:database/sales_db',
      'arn:aws:glue:eu-west-1:123456789012:table/sales_db/*',
    ]);
    expect(g?.Action).toContain('glue:CreateTable');
    const ro = parse(buildSessionPolicy({ bucket: 'b', prefix: 'p/', access: 'read', glue }, 'aws', '123456789012'));
    expect(ro.Statement.find((s) => s.Sid === 'Glue')?.Action.some((a) => a.startsWith('glue:Create'))).toBe(false);
  });

  it('uses an explicit catalog id, and adds nothing for a role without an account (Ceph RGW has no Glue)', () => {
    const withCatalog = buildSessionPolicy(
      { bucket: 'b', prefix: '', access: 'read', glue: { ...glue, catalogId: '210987654321' } },
      'aws',
      '123456789012',
    );
    expect(withCatalog).toContain('arn:aws:glue:eu-west-1:210987654321:database/sales_db');
    expect(buildSessionPolicy({ bucket: 'b', prefix: '', access: 'read', glue }, 'aws', '')).not.toContain('glue:');
    const rgw = { ...glue, catalogId: '210987654321' };
    expect(buildSessionPolicy({ bucket: 'b', prefix: '', access: 'read', glue: rgw }, 'aws', '')).not.toContain(
      'glue:',
    );
  });

  it('refuses a database name that would widen the grant', () => {
    expect(() =>
      buildSessionPolicy(
        { bucket: 'b', prefix: '', access: 'read', glue: { region: 'eu-west-1', database: 'db*' } },
        'aws',
        '1',
      ),
    ).toThrow(expect.objectContaining({ code: 'policy.invalid_glue' }));
  });
});
