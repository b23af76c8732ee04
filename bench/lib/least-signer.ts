/**
 * The least a remote signer can do, for bench/signing.ts's bound: a bare node:http server in a process of its own
 * that answers each Iceberg-style signing POST with S3 GET headers signed by one fixed role session. No
 * authentication, no scope or method check, no audit, no logging: what is left is the extra round trip that the
 * protocol itself adds to every GET (the client's request and JSON, the signer's parse and one SigV4 signature).
 * A signer that checks and records what it signs cannot beat it on the same machine.
 *
 * With BENCH_LEAST_SIGNER_AUDIT_DB (a SQLite file path) it does one thing more: it answers only once rolegate's own
 * audit trail (createAuditTrail over createAuditStore, in that file) has recorded the event rolegate records for a
 * signature. That bounds what any signer that audits each signature fail-closed can reach on the same machine.
 *
 * Reads the role session from BENCH_LEAST_SIGNER_SESSION (JSON: accessKeyId, secretAccessKey, sessionToken,
 * region); prints one JSON line `{ "url": ... }` once listening, then serves until SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { connectDatabase } from '../../src/db/connect.js';
import { systemClock } from '../../src/lib/clock.js';
import {
  ALGORITHM,
  amzDateOf,
  canonicalRequestOf,
  credentialScope,
  hmac,
  signingKey,
  stringToSign,
  UNSIGNED_PAYLOAD,
} from '../../src/lib/sigv4.js';
import { createAuditStore } from '../../src/modules/audit/audit.store.js';
import { type AuditTrail, createAuditTrail } from '../../src/modules/audit/audit-trail.js';
import { databaseSink } from '../../src/modules/audit/sinks.js';

export interface LeastSignerFacts {
  readonly url: string;
}

interface Session {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly region: string;
}

const session = JSON.parse(process.env.BENCH_LEAST_SIGNER_SESSION ?? '') as Session;
let cachedKey: { scope: string; key: Buffer } | undefined;

/** The headers to add to a GET of `uri` (no query string, as the bench's object GETs have none). */
function signGet(uri: string): Record<string, string[]> {
  const target = new URL(uri);
  const amzDate = amzDateOf(new Date());
  const scope = credentialScope(amzDate, session.region);
  if (cachedKey?.scope !== scope) cachedKey = { scope, key: signingKey(session.secretAccessKey, scope) };
  const headers = [
    ['host', target.host],
    ['x-amz-content-sha256', UNSIGNED_PAYLOAD],
    ['x-amz-date', amzDate],
    ['x-amz-security-token', session.sessionToken],
  ] as const;
  const canonical = canonicalRequestOf({
    method: 'GET',
    path: target.pathname,
    query: '',
    headers,
    payloadHash: UNSIGNED_PAYLOAD,
  });
  const signature = hmac(cachedKey.key, stringToSign({ amzDate, scope }, canonical)).toString('hex');
  return {
    authorization: [
      `${ALGORITHM} Credential=${session.accessKeyId}/${scope}, SignedHeaders=${headers.map(([n]) => n).join(';')}, Signature=${signature}`,
    ],
    'x-amz-content-sha256': [UNSIGNED_PAYLOAD],
    'x-amz-date': [amzDate],
    'x-amz-security-token': [session.sessionToken],
  };
}

async function openTrail(path: string): Promise<AuditTrail> {
  const db = await connectDatabase(`sqlite:${path}`);
  const store = createAuditStore(db);
  return createAuditTrail({
    sinks: [databaseSink(store)],
    store,
    minAccepted: 1,
    timeoutMs: 5000,
    clock: systemClock,
    logger: { error: () => undefined, warn: () => undefined },
  });
}
const auditDb = process.env.BENCH_LEAST_SIGNER_AUDIT_DB;
const trail = auditDb === undefined ? undefined : await openTrail(auditDb);
const accessKeyId = session.accessKeyId;

/** The event rolegate's audited signing records for an allowed GET signature (audited-signing.ts), field for field. */
function record(uri: string, started: number, userAgent: string | undefined): Promise<unknown> | undefined {
  if (trail === undefined) return undefined;
  const path = new URL(uri).pathname.slice(1);
  const slash = path.indexOf('/');
  return trail.record({
    requestId: randomUUID(),
    actor: 'bench',
    authMethod: 'token',
    sourceIp: '127.0.0.1',
    userAgent,
    action: 'signing.sign',
    connection: 'bench-sign',
    roleArn: 'arn:aws:iam:::role/sales-role',
    sessionName: 'rg-bench-sign-for-bench',
    accessKeyId,
    bucket: path.slice(0, slash),
    key: path.slice(slash + 1),
    outcome: 'allowed',
    durationMs: Math.round(performance.now() - started),
    details: { method: 'GET', operation: 'GetObject' },
  });
}

const server = createServer((req, res) => {
  const started = performance.now();
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: string;
    let recorded: Promise<unknown> | undefined;
    try {
      const { uri } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { uri: string };
      body = JSON.stringify({ uri, headers: signGet(uri) });
      recorded = record(uri, started, req.headers['user-agent']);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const answer = () =>
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, no-store' }).end(body);
    if (recorded === undefined) answer();
    else recorded.then(answer, () => res.writeHead(503).end());
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const facts: LeastSignerFacts = { url: `http://127.0.0.1:${port}` };
  process.stdout.write(`${JSON.stringify(facts)}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
