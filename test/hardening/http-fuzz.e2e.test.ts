import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingProxy, startRecordingProxy } from '../harness/recording-proxy.js';
import { startTestRolegate, type TestRolegate } from '../harness/rolegate.js';

/**
 * A bounded fuzz loop over loopback against a real rolegate: random JSON and junk bodies, headers and keys on
 * every route. No client mistake may answer 5xx, and a recording proxy between rolegate and RGW proves that no
 * S3 request ever leaves the caller's scope (the connection's `fuzz/` folder); RGW's ops log, read afterwards,
 * witnesses the same from the other side.
 */
const SEED = 20_251_011;
const SCOPE = 'fuzz/';

let rg: TestRolegate;
let proxy: RecordingProxy;

/** Route templates with their methods, filled with hostile parameter values. */
const ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/api/me'],
  ['POST', '/api/users'],
  ['GET', '/api/users/:p'],
  ['DELETE', '/api/users/:p'],
  ['PUT', '/api/users/:p/properties/:p'],
  ['POST', '/api/users/:p/tokens'],
  ['DELETE', '/api/users/:p/tokens/:p'],
  ['POST', '/api/users/:p/gateway-keys'],
  ['POST', '/api/groups'],
  ['PUT', '/api/groups/:p/members/:p'],
  ['POST', '/api/connections'],
  ['GET', '/api/connections/:p'],
  ['PUT', '/api/connections/:p'],
  ['PUT', '/api/me/keypairs/:p'],
  ['POST', '/api/connections/:p/credentials'],
  ['GET', '/api/connections/:p/credentials/iceberg'],
  ['POST', '/api/exec-tokens'],
  ['GET', '/api/exec/credentials'],
  ['POST', '/api/connections/:p/revocations'],
  ['POST', '/api/sessions'],
  ['POST', '/api/sessions/:p/role'],
  ['POST', '/api/mounts'],
  ['GET', '/api/mnt/:p'],
  ['PUT', '/api/catalog/connections/:p'],
  ['GET', '/api/catalog/connections/:p/databases/:p/tables'],
  ['POST', '/api/datasets'],
  ['GET', '/api/datasets/:p/:p'],
  ['PUT', '/api/datasets/:p/:p/data'],
  ['POST', '/api/datasets/:p/:p/writes'],
  ['GET', '/api/audit'],
  ['GET', '/api/explain'],
];

const json = fc.jsonValue({ maxDepth: 4 });
const junk = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '[', '{"a":', 'null', '""', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{}}}'),
  fc.constantFrom('\u0000\u0001', '%', '\uFEFF{}', `{"name":"${'x'.repeat(100_000)}"}`),
);
const param = fc.oneof(
  fc.constantFrom('alice', 'admin', 's3-sales', 'fuzz', '..', '%2e%2e', '%2F', '.', '~', '%00', 'a%2Fb', '%E2%80%AE'),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  '',
);
const token = fc.constantFrom('alice', 'carol', 'admin', 'bad', 'none');

function tokenOf(name: string): string | undefined {
  if (name === 'bad') return 'rg_x';
  if (name === 'none') return undefined;
  return rg.tokens[name as 'alice' | 'carol' | 'admin'];
}

/** Hostile object keys and prefixes: traversal, encodings, Unicode, control characters. */
const hostileKey = fc
  .array(
    fc.oneof(
      fc.constantFrom('..', '.', '/', '//', '%2F', '%2e%2e', '\\', '\u0000', '\u202E', 'e\u0301', '\uFF0F', '../sales'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 8 },
  )
  .map((p) => p.join(''));

/** Every S3 request rolegate sent (STS excluded) names a key or prefix inside the connection's scope. */
function outOfScope(bucket: string): string[] {
  const bad: string[] = [];
  for (const r of proxy.requests) {
    if (r.method === 'POST' && r.body.includes('Action=')) continue; // STS
    const url = new URL(r.url, 'http://x');
    const path = decodeURIComponent(url.pathname);
    if (!path.startsWith(`/${bucket}`)) {
      bad.push(`${r.method} ${r.url}`);
      continue;
    }
    const key = path.slice(bucket.length + 2);
    const prefix = url.searchParams.get('prefix');
    if (key === '') {
      // A bucket-level call: only a listing inside the scope.
      if (prefix === null || !prefix.startsWith(SCOPE)) bad.push(`${r.method} ${r.url}`);
    } else if (!key.startsWith(SCOPE) || key.split('/').includes('..')) {
      bad.push(`${r.method} ${r.url}`);
    }
  }
  return bad;
}

/** One request as RGW's ops log has it (`scripts/s3-backend.sh` turns the log on, one JSON object a line). */
interface OpsLogEntry {
  readonly bucket?: string;
  readonly time?: string;
  readonly uri?: string;
  readonly operation?: string;
  readonly authentication_type?: string;
  readonly sts_info?: { readonly role_session?: string };
}

/** The ops-log entries for `bucket` since `sinceMs`. RGW appends asynchronously: whole lines only. */
async function opsLogSince(bucket: string, sinceMs: number): Promise<OpsLogEntry[]> {
  const text = await readFile(join(rg.backend.dir, 'log', 'ops.log'), 'utf8');
  const out: OpsLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(bucket)) continue;
    let entry: OpsLogEntry;
    try {
      entry = JSON.parse(line) as OpsLogEntry;
    } catch {
      continue; // a line still being written
    }
    if (entry.bucket === bucket && Date.parse(entry.time ?? '') >= sinceMs) out.push(entry);
  }
  return out;
}

/**
 * The entries whose object key or listing prefix lies outside the scope. RGW writes `uri` as
 * `METHOD /bucket/key?query?query HTTP/1.1` (the query twice), the path as the client encoded it.
 */
function outOfScopeInOpsLog(bucket: string, entries: readonly OpsLogEntry[]): string[] {
  const bad: string[] = [];
  for (const e of entries) {
    const m = /^[A-Z]+ (\S+) HTTP\/1\.[01]$/.exec(e.uri ?? '');
    const [rawPath = '', rawQuery = ''] = (m?.[1] ?? '').split('?');
    const path = decodeURIComponent(rawPath);
    const prefix = new URLSearchParams(rawQuery).get('prefix');
    const what = `${e.operation} ${e.uri}`;
    if (!path.startsWith(`/${bucket}/`) && path !== `/${bucket}`) bad.push(what);
    else {
      const key = path.slice(bucket.length + 2);
      if (key === '') {
        if (prefix === null || !prefix.startsWith(SCOPE)) bad.push(what);
      } else if (!key.startsWith(SCOPE) || key.split('/').includes('..')) bad.push(what);
    }
  }
  return bad;
}

describe('HTTP fuzz against a real rolegate', () => {
  beforeAll(async () => {
    rg = await startTestRolegate();
    proxy = await startRecordingProxy(rg.backend.endpoint);
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', {
      name: 'fuzz',
      bucket: rg.seed.bucket,
      path: SCOPE,
      region: rg.backend.region,
      endpoint: proxy.url,
      forcePathStyle: true,
      credentials: { mode: 'assume-role', roleArn: '${adminProperty:salesRole}', durationSeconds: 3600 },
      usableBy: 'everyone',
      detailsReadableBy: 'everyone',
      allowedRoles: ['arn:aws:iam:::role/*'],
    });
    if (res.status !== 201) throw new Error(`setup: ${res.status} ${res.text}`);
  });
  afterAll(async () => {
    await proxy?.close();
    await rg?.close();
  });

  it('answers random bodies, headers and parameters on every route without a 5xx', async () => {
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.array(param, { minLength: 3, maxLength: 3 }),
        fc.oneof(
          json.map((j) => JSON.stringify(j)),
          junk,
        ),
        contentType,
        token,
        async ([method, template], params, body, type, who) => {
          let i = 0;
          const path = template.replace(/:p/g, () => params[i++] ?? 'x');
          const headers: Record<string, string> = {};
          const t = tokenOf(who);
          if (t !== undefined) headers.authorization = `Bearer ${t}`;
          if (type !== '') headers['content-type'] = type;
          const res = await fetch(`${rg.url}${path}`, {
            method,
            headers,
            body: method === 'GET' ? undefined : body,
          });
          const text = await res.text();
          if (res.status >= 500)
            failures.push(`${method} ${path} (${type}, ${who}) → ${res.status} ${text.slice(0, 200)}`);
        },
      ),
      { seed: SEED, numRuns: 600, interruptAfterTimeLimit: 20_000 },
    );
    expect(failures).toEqual([]);
  });

  it('never lets a hostile key or prefix reach S3 outside the connection scope', async () => {
    const failures: string[] = [];
    // RGW stamps entries with microseconds; a millisecond of margin keeps the loop's first request in.
    const loopStart = Date.now() - 1;
    const before = proxy.requests.length;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET objects', 'GET object', 'PUT object', 'DELETE object', 'GET cursor'),
        hostileKey,
        async (op, key) => {
          const q = encodeURIComponent(key);
          const [method, what] = op.split(' ') as [string, string];
          const path =
            what === 'objects'
              ? `/api/connections/fuzz/objects?prefix=${q}`
              : what === 'cursor'
                ? `/api/connections/fuzz/objects?cursor=${q}`
                : `/api/connections/fuzz/object?key=${q}`;
          const res = await fetch(`${rg.url}${path}`, {
            method,
            headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'application/octet-stream' },
            body: method === 'PUT' ? 'fuzz' : undefined,
          });
          const text = await res.text();
          if (res.status >= 500) failures.push(`${op} ${JSON.stringify(key)} → ${res.status} ${text.slice(0, 200)}`);
        },
      ),
      { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 20_000 },
    );
    expect(failures).toEqual([]);
    // The loop did reach S3 (so the assertion below is not vacuous), and never outside the scope.
    expect(proxy.requests.filter((r) => !r.body.includes('Action=')).length).toBeGreaterThan(20);
    expect(outOfScope(rg.seed.bucket)).toEqual([]);

    // The second witness: RGW's own ops log. Everything that reached this file's bucket during the loop — signed
    // by alice's role session, or not attributable to any session at all — named a key or prefix in scope.
    const sent = proxy.requests.slice(before).filter((r) => !r.body.includes('Action=')).length;
    let seen = await opsLogSince(rg.seed.bucket, loopStart);
    for (let i = 0; i < 50 && seen.length < sent; i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await opsLogSince(rg.seed.bucket, loopStart);
    }
    console.info(`[http-fuzz] S3 requests: ${sent} through the recording proxy, ${seen.length} in RGW's ops log`);
    expect(seen.length).toBeGreaterThanOrEqual(sent);
    const sessions = new Set(seen.map((e) => e.sts_info?.role_session).filter((s) => s !== undefined));
    expect([...sessions]).toEqual(['rg-fuzz-for-alice']);
    expect(seen.every((e) => e.authentication_type !== 'Local')).toBe(true);
    expect(outOfScopeInOpsLog(rg.seed.bucket, seen)).toEqual([]);
    // The check itself sees what it must: a key, a listing and a traversal outside the scope are all caught.
    const b = rg.seed.bucket;
    const outside = [
      `GET /${b}/sales/q1.csv?x-id=GetObject?x-id=GetObject HTTP/1.1`,
      `GET /${b}/?list-type=2&prefix=sales%2F?list-type=2&prefix=sales%2F HTTP/1.1`,
      `PUT /${b}/fuzz/%2E%2E/sales/x?x-id=PutObject?x-id=PutObject HTTP/1.1`,
      `GET /other-bucket/fuzz/x HTTP/1.1`,
    ];
    expect(
      outOfScopeInOpsLog(
        b,
        outside.map((uri) => ({ uri })),
      ),
    ).toHaveLength(outside.length);
  });
});
