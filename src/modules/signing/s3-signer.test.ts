import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smithyS3Signer } from '../../../test/harness/smithy-signer.js';
import type { ConnectionTarget, Scope } from '../../domain/model.js';
import { planSigning, type SigningPlan } from '../../domain/signing.js';
import { isRolegateError } from '../../errors/errors.js';
import { parseAuthentication, type RawRequest, verifySignature } from '../../gateway/sigv4.js';
import { presignPlannedRequest, signPlannedRequest } from './s3-signer.js';

// Made-up test credentials, deliberately not shaped like AWS keys.
const CREDENTIALS = {
  accessKeyId: 'RGTESTSIGNERKEY00001',
  secretAccessKey: 'test-secret-of-the-signer-unit-test',
  sessionToken: 'test-session-token-of-the-signer-unit-test',
};
const TARGET: ConnectionTarget = {
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
  useBucketRegion: false,
  bucket: 'data',
  pathInBucket: 'sales/',
};
const SCOPE: Scope = { bucket: 'data', prefix: 'sales/', access: 'read-write' };
const AT = new Date(Date.UTC(2026, 0, 15, 12, 0, 0));

/** The request a client sends once it added the signed headers, as a server receives it. */
function received(method: string, uri: string, headers: Record<string, string>): RawRequest {
  const url = new URL(uri);
  return { method, url: `${url.pathname}${url.search}`, rawHeaders: Object.entries(headers).flat() };
}

describe('signPlannedRequest', () => {
  it('produces what the S3 gateway verifier accepts, session token signed', () => {
    const client = { 'content-type': 'text/plain', range: 'bytes=0-9' };
    const plan = planSigning(
      {
        method: 'GET',
        uri: 'http://127.0.0.1:7480/data/sales/a%20b+c.csv?versionId=v1',
        headers: { 'Content-Type': [client['content-type']], Range: [client.range] },
      },
      TARGET,
      SCOPE,
    );
    const added = signPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT);
    expect(Object.keys(added).sort()).toEqual([
      'authorization',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(added['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(added.authorization).toContain('x-amz-security-token');
    const req = received('GET', plan.uri, { host: plan.host, ...client, ...added });
    const auth = parseAuthentication(req, AT.getTime());
    if (auth === undefined) throw new Error('no authentication parsed');
    expect(auth.signedHeaders).toEqual([
      'content-type',
      'host',
      'range',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(() => verifySignature(req, auth, CREDENTIALS.secretAccessKey)).not.toThrow();
    // Any change to a signed part breaks it: another key, another range.
    const other = received('GET', plan.uri.replace('a%20b', 'x'), { host: plan.host, ...client, ...added });
    expect(() => verifySignature(other, auth, CREDENTIALS.secretAccessKey)).toThrow();
    const widened = received('GET', plan.uri, { host: plan.host, ...client, range: 'bytes=0-99', ...added });
    expect(() => verifySignature(widened, auth, CREDENTIALS.secretAccessKey)).toThrow();
  });
});

describe('signPlannedRequest of a reusable read', () => {
  it('serves every range of the same URI, and nothing else', () => {
    const plan = planSigning(
      { method: 'GET', uri: 'http://127.0.0.1:7480/data/sales/t/f.parquet', headers: { Range: ['bytes=-8'] } },
      TARGET,
      SCOPE,
      { reusableReads: true },
    );
    const added = signPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT);
    for (const range of ['bytes=-8', 'bytes=0-1023', 'bytes=4096-8191']) {
      const req = received('GET', plan.uri, { host: plan.host, range, ...added });
      const auth = parseAuthentication(req, AT.getTime() + 30_000);
      if (auth === undefined) throw new Error('no authentication parsed');
      expect(auth.signedHeaders).toEqual(['host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']);
      expect(() => verifySignature(req, auth, CREDENTIALS.secretAccessKey)).not.toThrow();
    }
    const otherFile = received('GET', plan.uri.replace('f.parquet', 'g.parquet'), { host: plan.host, ...added });
    const auth = parseAuthentication(otherFile, AT.getTime());
    if (auth === undefined) throw new Error('no authentication parsed');
    expect(() => verifySignature(otherFile, auth, CREDENTIALS.secretAccessKey)).toThrow();
    const asDelete = received('DELETE', plan.uri, { host: plan.host, ...added });
    expect(() => verifySignature(asDelete, auth, CREDENTIALS.secretAccessKey)).toThrow();
  });
});

describe('presignPlannedRequest', () => {
  it('presigns a URL with the session token, the expiry and host as the only signed header', () => {
    const plan = planSigning(
      { method: 'PUT', uri: 'http://127.0.0.1:7480/data/sales/up.txt', headers: {} },
      TARGET,
      SCOPE,
    );
    const url = new URL(presignPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT, 120));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(CREDENTIALS.sessionToken);
    expect(url.searchParams.has('X-Amz-Content-Sha256')).toBe(false);
    const req = received('PUT', url.toString(), { host: plan.host });
    const auth = parseAuthentication(req, AT.getTime() + 60_000);
    if (auth === undefined) throw new Error('no authentication parsed');
    expect(() => verifySignature(req, auth, CREDENTIALS.secretAccessKey)).not.toThrow();
    expect(() => parseAuthentication(req, AT.getTime() + 121_000)).toThrow();
  });
});

const asSmithyRequest = (plan: SigningPlan, headers: Record<string, string>) => ({
  method: plan.method,
  protocol: plan.protocol,
  hostname: plan.hostname,
  port: plan.port,
  path: plan.path,
  query: Object.fromEntries(plan.query),
  headers,
});

describe('the signer agrees with @smithy/signature-v4', () => {
  const segment = fc.oneof(
    fc.constantFrom('t', 'data', 'part-0.parquet', 'a b', 'é', 'q1 (final)+v2.csv', '~x*', "it's", '100%'),
    fc.string({ minLength: 1, maxLength: 8 }).filter((x) => !x.includes('/') && x !== '.' && x !== '..'),
  );
  const headerValue = fc.constantFrom('text/plain', '  a   b  ', 'bytes=0-9', 'é', 'x,y');
  const request = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE'),
    segments: fc.array(segment, { minLength: 1, maxLength: 3 }),
    versionId: fc.option(fc.constantFrom('v1', 'a b', 'x/y+z'), { nil: undefined }),
    headers: fc.dictionary(fc.constantFrom('content-type', 'range', 'x-amz-meta-owner', 'if-match'), headerValue),
    at: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true }),
    region: fc.constantFrom('us-east-1', 'eu-west-1'),
    token: fc.boolean(),
  });

  it('on header-signed requests: the same authorization, date and token', async () => {
    const runs: Array<Promise<void>> = [];
    fc.assert(
      fc.property(request, (r) => {
        const uri = `http://127.0.0.1:7480/data/sales/${r.segments.map(encodeURIComponent).join('/')}${
          r.versionId === undefined || r.method === 'PUT' ? '' : `?versionId=${encodeURIComponent(r.versionId)}`
        }`;
        let plan: SigningPlan;
        try {
          plan = planSigning(
            { method: r.method, uri, headers: Object.fromEntries(Object.entries(r.headers).map(([n, v]) => [n, [v]])) },
            { ...TARGET, region: r.region },
            SCOPE,
          );
        } catch (e) {
          if (isRolegateError(e)) return; // refused: nothing to sign
          throw e;
        }
        const credentials = r.token ? CREDENTIALS : { ...CREDENTIALS, sessionToken: undefined };
        const ours = signPlannedRequest(plan, credentials, r.region, r.at);
        const theirs = smithyS3Signer(credentials, r.region).sign(asSmithyRequest(plan, { ...plan.headers }), {
          signingDate: r.at,
        });
        runs.push(
          theirs.then((signed) => {
            expect(ours.authorization).toBe(signed.headers.authorization);
            expect(ours['x-amz-date']).toBe(signed.headers['x-amz-date']);
            expect(ours['x-amz-security-token']).toBe(signed.headers['x-amz-security-token']);
          }),
        );
      }),
      { seed: 20_261_203, numRuns: 300 },
    );
    await Promise.all(runs);
    expect(runs.length).toBeGreaterThan(100);
  });

  it('on presigned URLs: the same signature', async () => {
    const plan = planSigning(
      { method: 'GET', uri: 'http://127.0.0.1:7480/data/sales/q1%20(final)+v2.csv?versionId=a%20b', headers: {} },
      TARGET,
      SCOPE,
    );
    const ours = new URL(presignPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT, 300));
    const theirs = await smithyS3Signer(CREDENTIALS, 'us-east-1').presign(
      asSmithyRequest(plan, { host: plan.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
      {
        signingDate: AT,
        expiresIn: 300,
        unhoistableHeaders: new Set(['x-amz-content-sha256']),
        unsignableHeaders: new Set(['x-amz-content-sha256']),
      },
    );
    expect(ours.searchParams.get('X-Amz-Signature')).toBe(theirs.query?.['X-Amz-Signature']);
    expect(ours.searchParams.get('versionId')).toBe('a b');
  });
});
