// biome-ignore-all lint/suspicious/noTemplateCurlyInString: connection templates are literal ${...} placeholders.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRolegateError } from '../errors/errors.js';
import { UNSIGNED_PAYLOAD } from '../lib/sigv4.js';
import { decideSigning } from './access.js';
import {
  type Connection,
  type ConnectionTarget,
  DEFAULT_SESSION_NAME_TEMPLATE,
  type Principal,
  type Scope,
} from './model.js';
import { endpointHosts, planSigning, presignExpiry, type SigningRequest } from './signing.js';

const RGW: ConnectionTarget = {
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
  useBucketRegion: false,
  bucket: 'data',
  pathInBucket: 'sales/',
};
const DOMAIN: ConnectionTarget = { ...RGW, endpoint: 'https://s3.example.com' };
const AWS: ConnectionTarget = { ...RGW, endpoint: undefined, region: 'eu-west-1' };
const SCOPE: Scope = { bucket: 'data', prefix: 'sales/', access: 'read-write' };
const READ_ONLY: Scope = { ...SCOPE, access: 'read' };

function req(method: string, uri: string, headers: Record<string, string[]> = {}): SigningRequest {
  return { method, uri, headers, region: 'us-east-1' };
}

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (isRolegateError(e)) return e.code;
    throw e;
  }
}

describe('planSigning: what is signed', () => {
  it('signs a path-style GET in scope, with the host and an unsigned payload hash it adds', () => {
    const plan = planSigning(req('GET', 'http://127.0.0.1:7480/data/sales/2024/q1.csv'), RGW, SCOPE);
    expect(plan).toMatchObject({
      operation: 'GetObject',
      write: false,
      bucket: 'data',
      key: 'sales/2024/q1.csv',
      host: '127.0.0.1:7480',
      path: '/data/sales/2024/q1.csv',
      uri: 'http://127.0.0.1:7480/data/sales/2024/q1.csv',
      added: ['x-amz-content-sha256'],
    });
    expect(plan.headers).toEqual({ host: '127.0.0.1:7480', 'x-amz-content-sha256': UNSIGNED_PAYLOAD });
  });

  it('reads the bucket from a virtual-host-style host', () => {
    const plan = planSigning(req('HEAD', 'https://data.s3.example.com/sales/a%20b.txt'), DOMAIN, SCOPE);
    expect(plan).toMatchObject({
      operation: 'HeadObject',
      bucket: 'data',
      key: 'sales/a b.txt',
      host: 'data.s3.example.com',
    });
    expect(plan.uri).toBe('https://data.s3.example.com/sales/a%20b.txt');
  });

  it('knows the AWS endpoints of a connection without an endpoint', () => {
    expect(endpointHosts(AWS).hosts).toContain('s3.eu-west-1.amazonaws.com');
    const r = { ...req('GET', 'https://data.s3.eu-west-1.amazonaws.com/sales/x'), region: 'eu-west-1' };
    expect(planSigning(r, AWS, SCOPE).bucket).toBe('data');
    expect(codeOf(() => planSigning({ ...r, uri: 'http://data.s3.eu-west-1.amazonaws.com/sales/x' }, AWS, SCOPE))).toBe(
      'signing.host_mismatch',
    );
  });

  it('signs the client headers it may, drops per-attempt and hop-by-hop ones, keeps a given payload hash', () => {
    const hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const plan = planSigning(
      req('PUT', 'http://127.0.0.1:7480/data/sales/new.bin', {
        'Content-Type': ['application/octet-stream'],
        'Content-Length': ['0'],
        'x-amz-content-sha256': [hash],
        'User-Agent': ['aws-sdk-java'],
        'amz-sdk-invocation-id': ['abc'],
        'amz-sdk-request': ['attempt=1'],
        Authorization: ['whatever'],
        'X-Amz-Security-Token': ['not-ours'],
      }),
      RGW,
      SCOPE,
    );
    expect(plan.operation).toBe('PutObject');
    expect(plan.added).toEqual([]);
    expect(plan.headers).toEqual({
      host: '127.0.0.1:7480',
      'content-type': 'application/octet-stream',
      'content-length': '0',
      'x-amz-content-sha256': hash,
    });
  });

  it('makes object reads reusable only when asked: the URI, host and x-amz-* headers signed, not range or if-*', () => {
    const headers = {
      Range: ['bytes=0-7'],
      'If-Match': ['"etag"'],
      'x-amz-checksum-mode': ['ENABLED'],
      'x-amz-server-side-encryption-customer-algorithm': ['AES256'],
    };
    const uri = 'http://127.0.0.1:7480/data/sales/t/data/f.parquet';
    const reusable = { reusableReads: true };
    const plan = planSigning(req('GET', uri, headers), RGW, SCOPE, reusable);
    expect(plan.reusable).toBe(true);
    expect(plan.headers).toEqual({
      host: '127.0.0.1:7480',
      'x-amz-checksum-mode': 'ENABLED',
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-content-sha256': UNSIGNED_PAYLOAD,
    });
    expect(planSigning(req('HEAD', uri, headers), RGW, SCOPE, reusable).reusable).toBe(true);
    // Off (the domain's default), every header given is signed and nothing is reusable.
    const single = planSigning(req('GET', uri, headers), RGW, SCOPE);
    expect(single.reusable).toBe(false);
    expect(single.headers).toMatchObject({ range: 'bytes=0-7', 'if-match': '"etag"' });
    // Writes and listings are never reusable: each is checked, signed with all its headers, and audited alone.
    const put = planSigning(req('PUT', uri, { 'Content-Type': ['text/plain'] }), RGW, SCOPE, reusable);
    expect([put.reusable, put.headers['content-type']]).toEqual([false, 'text/plain']);
    const list = planSigning(req('GET', 'http://127.0.0.1:7480/data?prefix=sales%2F'), RGW, SCOPE, reusable);
    expect(list.reusable).toBe(false);
  });

  it('signs listings whose prefix lies in the scope, and multipart steps', () => {
    const list = planSigning(req('GET', 'http://127.0.0.1:7480/data?list-type=2&prefix=sales%2F2024%2F'), RGW, SCOPE);
    expect(list).toMatchObject({ operation: 'ListObjectsV2', key: 'sales/2024/' });
    expect(list.uri).toBe('http://127.0.0.1:7480/data?list-type=2&prefix=sales%2F2024%2F');
    const base = 'http://127.0.0.1:7480/data/sales/big.bin';
    expect(planSigning(req('POST', `${base}?uploads`), RGW, SCOPE).operation).toBe('CreateMultipartUpload');
    expect(planSigning(req('PUT', `${base}?partNumber=1&uploadId=u1`), RGW, SCOPE).operation).toBe('UploadPart');
    expect(planSigning(req('POST', `${base}?uploadId=u1`), RGW, SCOPE).operation).toBe('CompleteMultipartUpload');
    expect(planSigning(req('DELETE', `${base}?uploadId=u1`), RGW, SCOPE).operation).toBe('AbortMultipartUpload');
    expect(planSigning(req('GET', 'http://127.0.0.1:7480/data?location'), RGW, SCOPE).operation).toBe(
      'GetBucketLocation',
    );
  });

  it('signs the NFC form of a key, as every other path into S3 sees it', () => {
    const plan = planSigning(
      req('GET', `http://127.0.0.1:7480/data/sales/${encodeURIComponent('cafe\u0301')}`),
      RGW,
      SCOPE,
    );
    expect(plan.key).toBe('sales/caf\u00e9');
    expect(plan.path).toBe('/data/sales/caf%C3%A9');
  });
});

describe('planSigning: what is refused', () => {
  const cases: Array<[string, SigningRequest, string]> = [
    ['a key outside the scope', req('GET', 'http://127.0.0.1:7480/data/hr/salaries.csv'), 'signing.outside_scope'],
    [
      'a sibling that shares the prefix text',
      req('GET', 'http://127.0.0.1:7480/data/sales-archive/x'),
      'signing.outside_scope',
    ],
    ['another bucket', req('GET', 'http://127.0.0.1:7480/other/sales/x'), 'signing.outside_scope'],
    ['another bucket, virtual-host-style', req('GET', 'https://other.s3.example.com/sales/x'), 'signing.outside_scope'],
    ['another host', req('GET', 'http://127.0.0.2:7480/data/sales/x'), 'signing.host_mismatch'],
    ['another port', req('GET', 'http://127.0.0.1:9000/data/sales/x'), 'signing.host_mismatch'],
    ['another scheme', req('GET', 'https://127.0.0.1:7480/data/sales/x'), 'signing.host_mismatch'],
    [
      'a Host header that disagrees',
      req('GET', 'http://127.0.0.1:7480/data/sales/x', { Host: ['evil'] }),
      'signing.host_mismatch',
    ],
    ['a listing of the whole bucket', req('GET', 'http://127.0.0.1:7480/data?list-type=2'), 'signing.outside_scope'],
    [
      'a listing prefix without its slash',
      req('GET', 'http://127.0.0.1:7480/data?prefix=sales'),
      'signing.outside_scope',
    ],
    ['a dot-dot segment', req('GET', 'http://127.0.0.1:7480/data/sales/../hr/x'), 'key.invalid'],
    ['an encoded dot-dot segment', req('GET', 'http://127.0.0.1:7480/data/sales/%2e%2e/hr/x'), 'key.invalid'],
    ['a double-encoded slash', req('GET', 'http://127.0.0.1:7480/data/sales/a%252Fb'), 'key.invalid'],
    ['a bad percent-encoding', req('GET', 'http://127.0.0.1:7480/data/sales/%zz'), 'signing.invalid_uri'],
    ['credentials in the URI', req('GET', 'http://u:p@127.0.0.1:7480/data/sales/x'), 'signing.invalid_uri'],
    [
      'an already presigned URI',
      req('GET', 'http://127.0.0.1:7480/data/sales/x?X-Amz-Signature=0'),
      'signing.invalid_uri',
    ],
    ['a relative URI', req('GET', '/data/sales/x'), 'signing.invalid_uri'],
    ['an ACL change', req('PUT', 'http://127.0.0.1:7480/data/sales/x?acl'), 'signing.operation_not_allowed'],
    [
      'a public-read ACL header',
      req('PUT', 'http://127.0.0.1:7480/data/sales/x', { 'x-amz-acl': ['public-read'] }),
      'signing.operation_not_allowed',
    ],
    [
      'a copy from elsewhere',
      req('PUT', 'http://127.0.0.1:7480/data/sales/x', { 'x-amz-copy-source': ['/data/hr/x'] }),
      'signing.operation_not_allowed',
    ],
    ['a bucket deletion', req('DELETE', 'http://127.0.0.1:7480/data'), 'signing.operation_not_allowed'],
    ['a bucket policy read', req('GET', 'http://127.0.0.1:7480/data?policy'), 'signing.operation_not_allowed'],
    ['PATCH', req('PATCH', 'http://127.0.0.1:7480/data/sales/x'), 'signing.method_not_allowed'],
    [
      'a streaming payload',
      req('PUT', 'http://127.0.0.1:7480/data/sales/x', {
        'x-amz-content-sha256': ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
      }),
      'signing.unsupported_payload',
    ],
    [
      'another region',
      { ...req('GET', 'http://127.0.0.1:7480/data/sales/x'), region: 'eu-west-1' },
      'signing.region_mismatch',
    ],
  ];
  for (const [what, request, code] of cases) {
    it(`refuses ${what} (${code})`, () => {
      expect(codeOf(() => planSigning(request, request.uri.includes('example.com') ? DOMAIN : RGW, SCOPE))).toBe(code);
    });
  }

  it('refuses writes for a read-only scope but signs reads and listings', () => {
    for (const method of ['PUT', 'POST', 'DELETE']) {
      expect(codeOf(() => planSigning(req(method, 'http://127.0.0.1:7480/data/sales/x'), RGW, READ_ONLY))).toBe(
        'signing.method_not_allowed',
      );
    }
    expect(planSigning(req('GET', 'http://127.0.0.1:7480/data/sales/x'), RGW, READ_ONLY).operation).toBe('GetObject');
    expect(planSigning(req('GET', 'http://127.0.0.1:7480/data?prefix=sales/'), RGW, READ_ONLY).operation).toBe(
      'ListObjects',
    );
  });

  it('names method, bucket and key in a refusal, never a header value or the query', () => {
    try {
      planSigning(
        req('GET', 'http://127.0.0.1:7480/data/hr/x?versionId=sekrit', { 'x-amz-meta-a': ['sekrit'] }),
        RGW,
        SCOPE,
      );
      expect.unreachable();
    } catch (e) {
      if (!isRolegateError(e)) throw e;
      expect(e.details).toEqual({ method: 'GET', bucket: 'data', key: 'hr/x' });
      expect(`${e.message}${JSON.stringify(e.details)}`).not.toContain('sekrit');
    }
  });
});

describe('planSigning: DeleteObjects (POST ?delete, its keys carried in the body)', () => {
  const uri = 'http://127.0.0.1:7480/data?delete';
  const body = (...keys: string[]) =>
    `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${keys
      .map((k) => `<Object><Key>${k}</Key></Object>`)
      .join('')}<Quiet>true</Quiet></Delete>`;
  const deletion = (b: string | undefined, headers: Record<string, string[]> = {}): SigningRequest => ({
    ...req('POST', uri, headers),
    body: b,
  });

  it('signs it when every key lies in the scope; the plan names the prefix they share and how many there are', () => {
    const plan = planSigning(
      deletion(body('sales/t/data/a.parquet', 'sales/t/data/b.parquet', 'sales/t/metadata/1.json'), {
        'content-md5': ['abc='],
      }),
      RGW,
      SCOPE,
    );
    expect(plan).toMatchObject({
      operation: 'DeleteObjects',
      write: true,
      bucket: 'data',
      key: 'sales/t/',
      objects: 3,
    });
    expect(plan.query).toEqual([['delete', '']]);
    expect(plan.headers['content-md5']).toBe('abc=');
    expect(plan.reusable).toBe(false);
  });

  const refusals: Array<[string, SigningRequest, Scope, string]> = [
    ['a key outside the scope', deletion(body('sales/a', 'hr/salaries.csv')), SCOPE, 'signing.outside_scope'],
    ['a sibling-prefix look-alike', deletion(body('sales-archive/x')), SCOPE, 'signing.outside_scope'],
    ['a traversal', deletion(body('sales/../hr/x')), SCOPE, 'key.invalid'],
    ['no body', deletion(undefined), SCOPE, 'signing.invalid_body'],
    ['malformed XML', deletion('<Delete><Object><Key>sales/a</Key></Delete>'), SCOPE, 'signing.invalid_body'],
    ['an entity declaration', deletion('<!DOCTYPE d [<!ENTITY e "x">]><Delete/>'), SCOPE, 'signing.invalid_body'],
    ['another root', deletion('<Remove><Object><Key>sales/a</Key></Object></Remove>'), SCOPE, 'signing.invalid_body'],
    ['no objects', deletion(body()), SCOPE, 'signing.invalid_body'],
    ['an object without a key', deletion('<Delete><Object></Object></Delete>'), SCOPE, 'signing.invalid_body'],
    [
      'more than 1000 objects',
      deletion(body(...Array.from({ length: 1001 }, (_, i) => `sales/${i}`))),
      SCOPE,
      'signing.invalid_body',
    ],
    ['a read-only scope', deletion(body('sales/a')), READ_ONLY, 'signing.method_not_allowed'],
    [
      'another bucket-level POST',
      { ...req('POST', 'http://127.0.0.1:7480/data?cors') },
      SCOPE,
      'signing.operation_not_allowed',
    ],
  ];
  for (const [what, request, scope, code] of refusals) {
    it(`refuses ${what} (${code})`, () => {
      expect(codeOf(() => planSigning(request, RGW, scope))).toBe(code);
    });
  }

  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

  it('signs the body: its SHA-256 is the payload hash rolegate adds when the client sent none', () => {
    const b = body('sales/t/a.parquet', 'sales/t/é.parquet');
    const plan = planSigning(deletion(b), RGW, SCOPE);
    expect(plan.headers['x-amz-content-sha256']).toBe(sha256(b));
    expect(plan.added).toEqual(['x-amz-content-sha256']);
    // Another body does not share its hash, so S3 refuses it under this signature (XAmzContentSHA256Mismatch).
    expect(sha256(body('sales/t/a.parquet', 'hr/salaries.csv'))).not.toBe(plan.headers['x-amz-content-sha256']);
  });

  it("keeps the client's payload hash when it is the body's, and adds none", () => {
    const b = body('sales/t/a.parquet');
    const plan = planSigning(deletion(b, { 'X-Amz-Content-SHA256': [sha256(b)] }), RGW, SCOPE);
    expect(plan.headers['x-amz-content-sha256']).toBe(sha256(b));
    expect(plan.added).toEqual([]);
  });

  it('refuses a payload hash that leaves the body unbound (signing.payload_mismatch)', () => {
    const b = body('sales/t/a.parquet');
    for (const given of [UNSIGNED_PAYLOAD, sha256(body('hr/salaries.csv')), sha256(`${b} `)]) {
      expect(codeOf(() => planSigning(deletion(b, { 'x-amz-content-sha256': [given] }), RGW, SCOPE))).toBe(
        'signing.payload_mismatch',
      );
    }
  });

  it('names the first key outside the scope in the refusal', () => {
    try {
      planSigning(deletion(body('sales/a', 'hr/x')), RGW, SCOPE);
      expect.unreachable();
    } catch (e) {
      if (!isRolegateError(e)) throw e;
      expect(e.details).toEqual({ method: 'POST', bucket: 'data', key: 'hr/x' });
    }
  });
});

describe('planSigning: properties', () => {
  const segment = fc.oneof(
    fc.constantFrom('..', '.', '', '%2F', '%2e%2e', '%252F', '%5C', 'sales', 'hr', '%00', 'a b', '%E2%80%AE'),
    fc.string({ maxLength: 6 }),
  );
  it('whatever the URI, a signed request names a key inside the scope, on the connection host, in the canonical URI', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE'),
        fc.constantFrom('http://127.0.0.1:7480', 'http://127.0.0.1:7481', 'http://data.127.0.0.1:7480'),
        fc.array(segment, { maxLength: 5 }),
        (method, origin, segments) => {
          const uri = `${origin}/${segments.join('/')}`;
          let plan: ReturnType<typeof planSigning>;
          try {
            plan = planSigning(req(method, uri), RGW, SCOPE);
          } catch (e) {
            if (isRolegateError(e)) return;
            throw e;
          }
          expect(plan.host).toBe('127.0.0.1:7480');
          expect(plan.bucket).toBe('data');
          if (plan.key !== undefined) expect(plan.key.startsWith('sales/')).toBe(true);
          // Signing what was checked: decoding the signed path gives back exactly the checked bucket and key.
          const decoded = plan.path.split('/').map(decodeURIComponent);
          expect(decoded.slice(2).join('/')).toBe(plan.key ?? '');
          expect(decoded[1]).toBe('data');
        },
      ),
      { seed: 20_251_202, numRuns: 500 },
    );
  });

  it('whatever the DeleteObjects body, a signed one names only keys inside the scope', () => {
    const key = fc
      .tuple(
        fc.constantFrom('sales/', 'sales/', 'sales/', 'hr/', 'sales-archive/', '/', ''),
        fc.array(
          fc.oneof(
            { arbitrary: fc.constantFrom('t', 'data', 'part-0.parquet', 'a b', 'é'), weight: 4 },
            { arbitrary: segment, weight: 1 },
          ),
          { maxLength: 4 },
        ),
      )
      .map(([prefix, parts]) => `${prefix}${parts.join('/')}`);
    const xmlText = (k: string) => k.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    let signed = 0;
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 4 }), fc.boolean(), (keys, cdata) => {
        const objects = keys
          .map((k) => `<Object><Key>${cdata ? `<![CDATA[${k}]]>` : xmlText(k)}</Key></Object>`)
          .join('');
        let plan: ReturnType<typeof planSigning>;
        try {
          plan = planSigning(
            { ...req('POST', 'http://127.0.0.1:7480/data?delete'), body: `<Delete>${objects}</Delete>` },
            RGW,
            SCOPE,
          );
        } catch (e) {
          if (isRolegateError(e)) return;
          throw e;
        }
        // Signed only when every key, as S3 will read it from the body, is under the connection's prefix.
        expect(keys.every((k) => k.startsWith('sales/') && !k.split('/').includes('..'))).toBe(true);
        expect(plan.objects).toBe(keys.length);
        expect(plan.key?.startsWith('sales/')).toBe(true);
        // ...and the signature holds for exactly that body.
        expect(plan.headers['x-amz-content-sha256']).toBe(
          createHash('sha256').update(`<Delete>${objects}</Delete>`, 'utf8').digest('hex'),
        );
        signed++;
      }),
      { seed: 20_261_203, numRuns: 500 },
    );
    // The property held over signed bodies, not only over refusals.
    expect(signed).toBeGreaterThan(25);
  });
});

describe('presignExpiry', () => {
  const now = Date.UTC(2026, 0, 1);
  it('keeps 1–3600 s, cut to what is left of the role session', () => {
    expect(presignExpiry(300, now, undefined)).toBe(300);
    expect(presignExpiry(300, now, new Date(now + 120_500))).toBe(120);
    expect(codeOf(() => presignExpiry(0, now, undefined))).toBe('signing.invalid_expiry');
    expect(codeOf(() => presignExpiry(3601, now, undefined))).toBe('signing.invalid_expiry');
    expect(codeOf(() => presignExpiry(1.5, now, undefined))).toBe('signing.invalid_expiry');
    expect(codeOf(() => presignExpiry(60, now, new Date(now + 500)))).toBe('signing.session_expiring');
  });
});

describe('decideSigning', () => {
  const bob: Principal = { userId: 'u', username: 'bob', role: 'analyst', groups: ['sales'], adminProperties: {} };
  const connection = (signingAllowedBy?: Connection['signingAllowedBy']): Connection => ({
    name: 's3-sales',
    description: '',
    target: RGW,
    mode: 'assume-role',
    assumeRole: { roleArn: '${adminProperty:role}', durationSeconds: 3600, master: 'environment' },
    usableBy: { kind: 'everyone' },
    detailsReadableBy: { kind: 'everyone' },
    signingAllowedBy,
    allowedRoles: [],
    sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: false,
  });
  it('denies by default (absent or nobody), even when details are readable', () => {
    expect(decideSigning(bob, connection())).toMatchObject({ allowed: false, code: 'signing.not_allowed' });
    expect(decideSigning(bob, connection({ kind: 'nobody' }))).toMatchObject({ allowed: false });
  });
  it('admits everyone or members of a named group, after usable-by', () => {
    expect(decideSigning(bob, connection({ kind: 'everyone' })).allowed).toBe(true);
    expect(decideSigning(bob, connection({ kind: 'groups', groups: ['sales'] })).allowed).toBe(true);
    expect(decideSigning(bob, connection({ kind: 'groups', groups: ['hr'] })).allowed).toBe(false);
    const unusable = { ...connection({ kind: 'everyone' }), usableBy: { kind: 'groups', groups: ['hr'] } } as const;
    expect(decideSigning(bob, unusable)).toMatchObject({ code: 'connection.not_usable' });
  });
});
