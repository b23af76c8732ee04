import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../../errors/errors.js';
import { type AssumeRoleRequest, createStsGateway, mapStsError } from './sts.js';

const ROLE = 'arn:aws:iam::123456789012:role/sales';
const CONN = 's3-sales';

function sdkError(name: string, status: number | undefined, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(name), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
    ...extra,
  });
}

describe('mapStsError', () => {
  const request = { roleArn: ROLE, connectionName: CONN };

  it('maps 403 to PermissionDenied sts.access_denied naming the role and connection', () => {
    const cause = sdkError('AccessDenied', 403);
    const e = mapStsError(cause, request);
    expect(e.kind).toBe('PermissionDenied');
    expect(e.code).toBe('sts.access_denied');
    expect(e.message).toContain(ROLE);
    expect(e.message).toContain(CONN);
    expect(e.details).toEqual({ roleArn: ROLE, connection: CONN });
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe(cause);
  });

  it('maps 404 to NotFound sts.role_not_found', () => {
    const e = mapStsError(sdkError('NoSuchEntity', 404), request);
    expect(e.kind).toBe('NotFound');
    expect(e.code).toBe('sts.role_not_found');
    expect(e.message).toContain(ROLE);
    expect(e.retryable).toBe(false);
  });

  it('maps 400 to InvalidInput sts.invalid_request', () => {
    const e = mapStsError(sdkError('ValidationError', 400), request);
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('sts.invalid_request');
    expect(e.message).toContain(CONN);
    expect(e.retryable).toBe(false);
  });

  it('maps 5xx to a retryable sts.unavailable', () => {
    const e = mapStsError(sdkError('ServiceUnavailable', 503), request);
    expect(e.kind).toBe('UpstreamUnavailable');
    expect(e.code).toBe('sts.unavailable');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain('503');
  });

  it('maps network failures to a retryable sts.unavailable', () => {
    for (const error of [
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      sdkError('TimeoutError', undefined),
    ]) {
      const e = mapStsError(error, request);
      expect(e.code).toBe('sts.unavailable');
      expect(e.retryable).toBe(true);
      expect(e.message).toContain('could not be reached');
      expect(e.message).toContain(ROLE);
    }
  });

  it('passes a RolegateError through unchanged', () => {
    const original = mapStsError(sdkError('AccessDenied', 403), request);
    expect(mapStsError(original, request)).toBe(original);
  });
});

// --- createStsGateway against a local HTTP server ---------------------------------------------------

interface Recorded {
  readonly method: string | undefined;
  readonly body: URLSearchParams;
}

type Responder = (req: IncomingMessage, res: ServerResponse, index: number) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function stsServer(respond: Responder): Promise<{ endpoint: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, body: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
      respond(req, res, requests.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, requests };
}

const ASSUME_ROLE_XML = `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIATESTACCESSKEY</AccessKeyId>
      <SecretAccessKey>test-secret-access-key</SecretAccessKey>
      <SessionToken>test-session-token</SessionToken>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/sales/rg-s3-sales-for-bob</Arn>
      <AssumedRoleId>AROATESTROLEID:rg-s3-sales-for-bob</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;

function errorXml(code: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
}

const ok: Responder = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(ASSUME_ROLE_XML);
};

function fail(status: number, code: string): Responder {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(errorXml(code));
  };
}

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/p/*' }],
});

function request(endpoint: string): AssumeRoleRequest {
  return {
    masterCredentials: { accessKeyId: 'AKIAMASTER', secretAccessKey: 'master-secret' },
    region: 'us-east-1',
    endpoint,
    roleArn: ROLE,
    sessionName: 'rg-s3-sales-for-bob',
    durationSeconds: 1800,
    externalId: 'ext-123',
    policy: POLICY,
    connectionName: CONN,
  };
}

async function rejection(promise: Promise<unknown>): Promise<RolegateError> {
  try {
    await promise;
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

describe('createStsGateway', () => {
  it('sends an AssumeRole request with every parameter and returns the credentials', async () => {
    const { endpoint, requests } = await stsServer(ok);
    const sts = createStsGateway({ timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 1 });
    const assumed = await sts.assumeRole(request(endpoint));

    expect(requests).toHaveLength(1);
    const body = requests[0]!.body;
    expect(requests[0]!.method).toBe('POST');
    expect(body.get('Action')).toBe('AssumeRole');
    expect(body.get('Version')).toBe('2011-06-15');
    expect(body.get('RoleArn')).toBe(ROLE);
    expect(body.get('RoleSessionName')).toBe('rg-s3-sales-for-bob');
    expect(body.get('DurationSeconds')).toBe('1800');
    expect(body.get('ExternalId')).toBe('ext-123');
    expect(body.get('Policy')).toBe(POLICY);

    expect(assumed.credentials.accessKeyId).toBe('ASIATESTACCESSKEY');
    expect(assumed.credentials.secretAccessKey).toBe('test-secret-access-key');
    expect(assumed.credentials.sessionToken).toBe('test-session-token');
    expect(assumed.credentials.expiration.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(assumed.assumedRoleArn).toBe('arn:aws:sts::123456789012:assumed-role/sales/rg-s3-sales-for-bob');
  });

  it('omits ExternalId when the connection has none', async () => {
    const { endpoint, requests } = await stsServer(ok);
    await createStsGateway({ timeoutMs: 2_000, maxAttempts: 1 }).assumeRole({
      ...request(endpoint),
      externalId: undefined,
    });
    expect(requests[0]!.body.has('ExternalId')).toBe(false);
  });

  it('retries 503 answers and succeeds on the third attempt', async () => {
    const { endpoint, requests } = await stsServer((req, res, index) =>
      index <= 2 ? fail(503, 'ServiceUnavailable')(req, res, index) : ok(req, res, index),
    );
    const sts = createStsGateway({ timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 1 });
    const assumed = await sts.assumeRole(request(endpoint));
    expect(assumed.credentials.accessKeyId).toBe('ASIATESTACCESSKEY');
    expect(requests).toHaveLength(3);
  });

  it('gives up after maxAttempts 503 answers with sts.unavailable', async () => {
    const { endpoint, requests } = await stsServer(fail(503, 'ServiceUnavailable'));
    const sts = createStsGateway({ timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 1 });
    const e = await rejection(sts.assumeRole(request(endpoint)));
    expect(e.code).toBe('sts.unavailable');
    expect(e.retryable).toBe(true);
    expect(requests).toHaveLength(3);
  });

  it('does not retry a 403 and reports sts.access_denied', async () => {
    const { endpoint, requests } = await stsServer(fail(403, 'AccessDenied'));
    const sts = createStsGateway({ timeoutMs: 2_000, maxAttempts: 3, baseDelayMs: 1 });
    const e = await rejection(sts.assumeRole(request(endpoint)));
    expect(e.code).toBe('sts.access_denied');
    expect(e.kind).toBe('PermissionDenied');
    expect(e.message).toContain(ROLE);
    expect(e.message).toContain(CONN);
    expect(requests).toHaveLength(1);
  });

  it('reports a 200 answer without credentials as sts.malformed_response', async () => {
    const { endpoint } = await stsServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>',
      );
    });
    const e = await rejection(createStsGateway({ timeoutMs: 2_000, maxAttempts: 1 }).assumeRole(request(endpoint)));
    expect(e.code).toBe('sts.malformed_response');
  });

  it('fails within the timeout with sts.unavailable when the server never answers', async () => {
    const { endpoint, requests } = await stsServer(() => {
      // Never answer.
    });
    const sts = createStsGateway({ timeoutMs: 200, maxAttempts: 2, baseDelayMs: 1 });
    const started = Date.now();
    const e = await rejection(sts.assumeRole(request(endpoint)));
    const elapsed = Date.now() - started;
    expect(e.code).toBe('sts.unavailable');
    expect(e.retryable).toBe(true);
    expect(requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(3_000);
  }, 10_000);

  it('reports an unreachable endpoint as sts.unavailable', async () => {
    const { endpoint } = await stsServer(ok);
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
    const e = await rejection(
      createStsGateway({ timeoutMs: 1_000, maxAttempts: 2, baseDelayMs: 1 }).assumeRole(request(endpoint)),
    );
    expect(e.code).toBe('sts.unavailable');
    expect(e.message).toContain('could not be reached');
  });
});
