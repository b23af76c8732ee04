import { describe, expect, it } from 'vitest';
import type { ConnectionTarget, Scope } from '../../domain/model.js';
import { planSigning } from '../../domain/signing.js';
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
  it('produces what an independent SigV4 verifier (the S3 gateway) accepts, session token signed', async () => {
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
    const added = await signPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT);
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
  it('serves every range of the same URI, and nothing else', async () => {
    const plan = planSigning(
      { method: 'GET', uri: 'http://127.0.0.1:7480/data/sales/t/f.parquet', headers: { Range: ['bytes=-8'] } },
      TARGET,
      SCOPE,
      { reusableReads: true },
    );
    const added = await signPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT);
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
  it('presigns a URL with the session token, the expiry and host as the only signed header', async () => {
    const plan = planSigning(
      { method: 'PUT', uri: 'http://127.0.0.1:7480/data/sales/up.txt', headers: {} },
      TARGET,
      SCOPE,
    );
    const url = new URL(await presignPlannedRequest(plan, CREDENTIALS, 'us-east-1', AT, 120));
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
