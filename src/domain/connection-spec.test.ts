import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS, validateConnection } from './connection-spec.js';
import { type Connection, DEFAULT_SESSION_NAME_TEMPLATE } from './model.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

function connection(overrides: Partial<Connection> = {}): Connection {
  return {
    name: 's3-sales',
    description: 'Sales data',
    target: {
      region: 'eu-west-1',
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      forcePathStyle: false,
      useBucketRegion: false,
      bucket: 'data-lake',
      pathInBucket: 'sales/',
    },
    mode: 'assume-role',
    assumeRole: {
      roleArn: 'arn:aws:iam::123456789012:role/sales',
      externalId: 'ext-123',
      durationSeconds: 3600,
      master: 'environment',
    },
    usableBy: { kind: 'groups', groups: ['sales'] },
    detailsReadableBy: { kind: 'nobody' },
    allowedRoles: [],
    sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: false,
    ...overrides,
  };
}

const valid = connection();

function withTarget(target: Partial<Connection['target']>): Connection {
  return connection({ target: { ...valid.target, ...target } });
}

function withRole(assumeRole: Partial<NonNullable<Connection['assumeRole']>>): Connection {
  return connection({ assumeRole: { ...valid.assumeRole!, ...assumeRole } });
}

/** Asserts `c` is refused as `connection.invalid` with a message starting with `field: `. */
function expectInvalid(c: Connection, field: string): RolegateError {
  const e = caught(() => validateConnection(c));
  expect(e.kind).toBe('InvalidInput');
  expect(e.code).toBe('connection.invalid');
  expect(e.message.startsWith(`${field}: `)).toBe(true);
  expect(e.details).toEqual({ field });
  return e;
}

describe('validateConnection: valid connections', () => {
  it('accepts a valid assume-role connection unchanged', () => {
    expect(validateConnection(valid)).toEqual(valid);
  });

  it('normalises the path in the bucket', () => {
    expect(validateConnection(withTarget({ pathInBucket: '/sales' })).target.pathInBucket).toBe('sales/');
    expect(validateConnection(withTarget({ pathInBucket: 'a/b' })).target.pathInBucket).toBe('a/b/');
    expect(validateConnection(withTarget({ pathInBucket: '/' })).target.pathInBucket).toBe('');
    expect(validateConnection(withTarget({ pathInBucket: '' })).target.pathInBucket).toBe('');
  });

  it('does not modify its input', () => {
    const input = withTarget({ pathInBucket: '/sales' });
    validateConnection(input);
    expect(input.target.pathInBucket).toBe('/sales');
  });

  it('accepts a role ARN template, an RGW role ARN and the duration bounds', () => {
    expect(() => validateConnection(withRole({ roleArn: '${adminProperty:salesRole}' }))).not.toThrow();
    expect(() => validateConnection(withRole({ roleArn: 'arn:aws:iam:::role/sales' }))).not.toThrow();
    expect(() => validateConnection(withRole({ durationSeconds: MIN_DURATION_SECONDS }))).not.toThrow();
    expect(() => validateConnection(withRole({ durationSeconds: MAX_DURATION_SECONDS }))).not.toThrow();
  });

  it('accepts keypair, environment and per-user-keypair connections', () => {
    expect(() =>
      validateConnection(connection({ mode: 'keypair', assumeRole: undefined, accessKeyId: 'AKIAEXAMPLE' })),
    ).not.toThrow();
    expect(() => validateConnection(connection({ mode: 'environment', assumeRole: undefined }))).not.toThrow();
    expect(() => validateConnection(connection({ mode: 'per-user-keypair', assumeRole: undefined }))).not.toThrow();
  });
});

describe('validateConnection: invalid fields', () => {
  it('refuses bad names', () => {
    for (const name of ['S3-Sales', 'ab', '-sales', 'sales-', 'sales_data', 'a'.repeat(64), 'sales.data']) {
      expectInvalid(connection({ name }), 'name');
    }
  });

  it('refuses bad bucket names', () => {
    for (const bucket of ['Data', 'a', 'data..lake', '-data', 'data_lake', 'data/lake']) {
      expectInvalid(withTarget({ bucket }), 'bucket');
    }
  });

  it('refuses bad regions', () => {
    for (const region of ['', 'EU-WEST-1', 'eu west 1', 'a'.repeat(33)]) {
      expectInvalid(withTarget({ region }), 'region');
    }
  });

  it('refuses endpoints that are not http(s) URLs or that carry credentials', () => {
    expectInvalid(withTarget({ endpoint: 'ftp://s3.example.com' }), 'endpoint');
    expectInvalid(withTarget({ endpoint: 'not a url' }), 'endpoint');
    const e = expectInvalid(withTarget({ endpoint: 'https://user:pass@s3.example.com' }), 'endpoint');
    expect(e.message).not.toContain('pass@');
    expectInvalid(withTarget({ stsEndpoint: 'file:///etc/passwd' }), 'stsEndpoint');
  });

  it('refuses paths with .. segments or wildcards', () => {
    expectInvalid(withTarget({ pathInBucket: 'sales/../hr' }), 'path');
    expectInvalid(withTarget({ pathInBucket: '..' }), 'path');
    expectInvalid(withTarget({ pathInBucket: 'sales/*' }), 'path');
    expectInvalid(withTarget({ pathInBucket: 'sales?' }), 'path');
    expectInvalid(withTarget({ pathInBucket: 'a//b' }), 'path');
  });

  it('refuses durations outside 900–43200 seconds', () => {
    expectInvalid(withRole({ durationSeconds: 899 }), 'credentials.durationSeconds');
    expectInvalid(withRole({ durationSeconds: 43_201 }), 'credentials.durationSeconds');
    expectInvalid(withRole({ durationSeconds: 1800.5 }), 'credentials.durationSeconds');
  });

  it('refuses an external id that is too short or has bad characters', () => {
    expectInvalid(withRole({ externalId: 'x' }), 'credentials.externalId');
    expectInvalid(withRole({ externalId: 'has space' }), 'credentials.externalId');
  });

  it('refuses a literal role ARN that is not a role ARN', () => {
    expectInvalid(withRole({ roleArn: 'sales' }), 'credentials.roleArn');
    expectInvalid(withRole({ roleArn: 'arn:aws:iam::123456789012:user/bob' }), 'credentials.roleArn');
  });

  it('refuses a role ARN template with an unknown variable', () => {
    const e = expectInvalid(withRole({ roleArn: '${adminPropery:role}' }), 'credentials.roleArn');
    expect(e.message).toContain('unknown variable');
  });

  it('refuses a bad session name template', () => {
    expectInvalid(connection({ sessionNameTemplate: 'rg-${group}' }), 'sessionNameTemplate');
  });

  it('refuses empty allowed role patterns', () => {
    expectInvalid(connection({ allowedRoles: [''] }), 'allowedRoles');
  });

  it('refuses keypair modes without an access key id', () => {
    expectInvalid(connection({ mode: 'keypair', assumeRole: undefined }), 'credentials.accessKeyId');
    expectInvalid(
      connection({ mode: 'keypair', assumeRole: undefined, accessKeyId: 'AKIA/BAD' }),
      'credentials.accessKeyId',
    );
    expectInvalid(withRole({ master: 'keypair' }), 'credentials.accessKeyId');
  });

  it('refuses assume-role without role settings', () => {
    expectInvalid(connection({ assumeRole: undefined }), 'credentials');
  });

  it('refuses role settings on a keypair-mode connection', () => {
    const e = expectInvalid(connection({ mode: 'keypair', accessKeyId: 'AKIAEXAMPLE' }), 'credentials');
    expect(e.message).toContain('keypair');
  });

  it('refuses a connection usable by nobody', () => {
    expectInvalid(connection({ usableBy: { kind: 'nobody' } }), 'usableBy');
  });

  it('refuses an empty group list in either rule', () => {
    expectInvalid(connection({ usableBy: { kind: 'groups', groups: [] } }), 'groups');
    expectInvalid(connection({ detailsReadableBy: { kind: 'groups', groups: [] } }), 'groups');
  });

  it('refuses an overlong description', () => {
    expectInvalid(connection({ description: 'x'.repeat(1001) }), 'description');
  });
});
