import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatewayKey,
  type GatewayKey,
  type GatewayRig,
  gatewayS3Client,
  startGatewayRig,
} from '../harness/gateway.js';
import { salesConnectionBody, type TestRolegate } from '../harness/rolegate.js';

/**
 * The authorization matrix: every registered HTTP route × every kind of caller, with the expected status (and
 * error code where it is part of the contract). The route list is read from the running server, so a route
 * added without a row here fails this file.
 */

type Persona = 'anonymous' | 'badToken' | 'noRights' | 'withRights' | 'otherUser' | 'admin';
const PERSONAS: readonly Persona[] = ['anonymous', 'badToken', 'noRights', 'otherUser', 'withRights', 'admin'];

/** A status, or a status and the error code of its body. */
type Cell = number | readonly [number, string];
type Row = Readonly<Record<Persona, Cell>>;

interface Request {
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** How a route is called by each persona; `fresh` builds a new resource per call when success consumes it. */
interface RouteCase {
  readonly expect: Row;
  readonly request: (persona: Persona) => Promise<Request> | Request;
}

const UNAUTH: Cell = [401, 'auth.required'];
const BADTOKEN: Cell = [401, 'auth.invalid_token'];
const ADMIN_ONLY: Cell = [403, 'auth.admin_required'];
/** The admin sees every connection but may use only those whose rules admit them. */
const NOT_USABLE: Cell = [403, 'connection.not_usable'];
const fourTimes = (c: Cell): [Cell, Cell, Cell, Cell] => [c, c, c, c];

/** Shorthand for the usual shape: anonymous 401, bad token 401, then the four authenticated cells. */
function row(noRights: Cell, otherUser: Cell, withRights: Cell, admin: Cell): Row {
  return { anonymous: UNAUTH, badToken: BADTOKEN, noRights, otherUser, withRights, admin };
}
/** A public route: the same answer whoever asks. */
function open(status: number): Row {
  return {
    anonymous: status,
    badToken: status,
    noRights: status,
    otherUser: status,
    withRights: status,
    admin: status,
  };
}

let rig: GatewayRig;
let rg: TestRolegate;
let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}`;

/** The token each persona sends (undefined: no Authorization header). */
function tokenOf(persona: Persona): string | undefined {
  switch (persona) {
    case 'anonymous':
      return undefined;
    case 'badToken':
      return 'rg_notavalidtoken0000000000000000';
    case 'noRights':
      return rg.tokens.carol;
    case 'otherUser':
      return rg.tokens.bob;
    case 'withRights':
      return rg.tokens.alice;
    case 'admin':
      return rg.tokens.admin;
  }
}

async function ok(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await rg.api(rg.tokens.admin, method, path, body);
  if (res.status >= 300) throw new Error(`setup ${method} ${path}: ${res.status} ${res.text}`);
  return res.json;
}

async function aliceToken(): Promise<string> {
  const res = await rg.api(rg.tokens.alice, 'POST', '/api/users/alice/tokens', { name: unique('t') });
  return (res.json as { id: string }).id;
}

const connectionBody = () => salesConnectionBody(rg, { name: unique('matrix-c'), detailsReadableBy: 'everyone' });

/** Every route, keyed `METHOD /path/template` exactly as Fastify registered it. */
const ROUTES: Record<string, RouteCase> = {
  // Public, outside /api.
  'GET /healthz': { expect: open(200), request: () => ({ path: '/healthz' }) },
  'GET /readyz': { expect: open(200), request: () => ({ path: '/readyz' }) },
  'GET /metrics': { expect: open(200), request: () => ({ path: '/metrics' }) },
  'GET /docs': { expect: open(200), request: () => ({ path: '/docs' }) },
  'GET /docs/': { expect: open(200), request: () => ({ path: '/docs/' }) },
  'GET /docs/json': { expect: open(200), request: () => ({ path: '/docs/json' }) },
  'GET /docs/yaml': { expect: open(200), request: () => ({ path: '/docs/yaml' }) },
  'GET /docs/static/index.html': { expect: open(200), request: () => ({ path: '/docs/static/index.html' }) },
  'GET /docs/static/swagger-initializer.js': {
    expect: open(200),
    request: () => ({ path: '/docs/static/swagger-initializer.js' }),
  },
  'GET /docs/*': { expect: open(404), request: () => ({ path: '/docs/static/nothing-here.js' }) },
  // The web UI's SPA fallback answers any other GET (index.html), never data.
  'GET /*': { expect: open(200), request: () => ({ path: '/connections/s3-sales' }) },

  // Identity.
  'GET /api/me': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/me' }) },
  'POST /api/users': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 201),
    request: () => ({ path: '/api/users', body: { username: unique('mu'), role: 'analyst' } }),
  },
  'GET /api/users': { expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200), request: () => ({ path: '/api/users' }) },
  'GET /api/users/:username': {
    expect: row(404, 404, 200, 200),
    request: () => ({ path: '/api/users/alice' }),
  },
  'DELETE /api/users/:username': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: async () => {
      const username = unique('victim');
      await ok('POST', '/api/users', { username, role: 'analyst' });
      return { path: `/api/users/${username}` };
    },
  },
  'PUT /api/users/:username/properties/:property': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: () => ({ path: '/api/users/carol/properties/matrixProp', body: { value: 'x' } }),
  },
  'DELETE /api/users/:username/properties/:property': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: () => ({ path: '/api/users/carol/properties/matrixProp' }),
  },
  'POST /api/users/:username/tokens': {
    expect: row(404, 404, 201, 201),
    request: () => ({ path: '/api/users/alice/tokens', body: { name: unique('t') } }),
  },
  'GET /api/users/:username/tokens': {
    expect: row(404, 404, 200, 200),
    request: () => ({ path: '/api/users/alice/tokens' }),
  },
  'DELETE /api/users/:username/tokens/:id': {
    expect: row(404, 404, 204, 204),
    request: async () => ({ path: `/api/users/alice/tokens/${await aliceToken()}` }),
  },
  'POST /api/groups': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 201),
    request: () => ({ path: '/api/groups', body: { name: unique('mg') } }),
  },
  'GET /api/groups': { expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200), request: () => ({ path: '/api/groups' }) },
  'DELETE /api/groups/:group': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: async () => {
      const name = unique('mg');
      await ok('POST', '/api/groups', { name });
      return { path: `/api/groups/${name}` };
    },
  },
  'PUT /api/groups/:group/members/:username': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: () => ({ path: '/api/groups/matrix-group/members/carol' }),
  },
  'DELETE /api/groups/:group/members/:username': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: () => ({ path: '/api/groups/matrix-group/members/carol' }),
  },

  // Gateway keys: a user's own, or any as admin; another user's keys are not even visible.
  'POST /api/users/:username/gateway-keys': {
    expect: row(404, 404, 201, 201),
    request: () => ({ path: '/api/users/alice/gateway-keys', body: { name: 'matrix' } }),
  },
  'GET /api/users/:username/gateway-keys': {
    expect: row(404, 404, 200, 200),
    request: () => ({ path: '/api/users/alice/gateway-keys' }),
  },
  'DELETE /api/users/:username/gateway-keys/:accessKeyId': {
    expect: row(404, 404, 204, 204),
    request: async () => {
      const key = await createGatewayKey(rg, rg.tokens.alice, 'alice');
      return { path: `/api/users/alice/gateway-keys/${key.accessKeyId}` };
    },
  },

  // Connections.
  'POST /api/connections': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 201),
    request: () => ({ path: '/api/connections', body: connectionBody() }),
  },
  'GET /api/connections': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/connections' }) },
  'GET /api/me/connections': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/me/connections' }) },
  'GET /api/connections/:name': {
    expect: row(404, 404, 200, 200),
    request: () => ({ path: '/api/connections/alice-team' }),
  },
  'PUT /api/connections/:name': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/connections/matrix-conn', body: { ...connectionBody(), name: 'matrix-conn' } }),
  },
  'DELETE /api/connections/:name': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: async () => {
      const body = connectionBody();
      await ok('POST', '/api/connections', body);
      return { path: `/api/connections/${body.name}` };
    },
  },
  // "Test as user": a real role session and listing as the named user, for administrators only.
  'POST /api/connections/:name/test': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/connections/s3-sales/test', body: { user: 'alice' } }),
  },
  // s3-sales uses assume-role, not per-user keypairs: refused for everyone alike, nothing stored.
  'PUT /api/me/keypairs/:name': {
    expect: row(...fourTimes([400, 'connection.not_per_user'])),
    request: () => ({ path: '/api/me/keypairs/s3-sales', body: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' } }),
  },
  'GET /api/me/keypairs/:name': {
    expect: row(200, 200, 200, 200),
    request: () => ({ path: '/api/me/keypairs/s3-sales' }),
  },
  'DELETE /api/me/keypairs/:name': {
    expect: row(404, 404, 404, 404),
    request: () => ({ path: '/api/me/keypairs/s3-sales' }),
  },

  // Credentials and data: matrix-private is usable (and its details readable) by alice's group only; carol and
  // bob do not see it at all, the admin sees it but may not use it (no member).
  'POST /api/connections/:name/credentials': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/connections/matrix-private/credentials', body: {} }),
  },
  'GET /api/connections/:name/credentials/iceberg': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/connections/matrix-private/credentials/iceberg' }),
  },
  'GET /api/connections/:name/objects': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/connections/matrix-private/objects' }),
  },
  'GET /api/connections/:name/object': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/connections/matrix-private/object?key=matrix/hello.txt' }),
  },
  'PUT /api/connections/:name/object': {
    expect: row(404, 404, 201, NOT_USABLE),
    request: () => ({
      path: '/api/connections/matrix-private/object?key=matrix/hello.txt',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    }),
  },
  'DELETE /api/connections/:name/object': {
    expect: row(404, 404, 204, NOT_USABLE),
    request: async () => {
      const key = `matrix/${unique('gone')}.txt`;
      await rg.api(rg.tokens.alice, 'PUT', `/api/connections/matrix-private/object?key=${key}`, undefined, {
        'content-type': 'text/plain',
      });
      return { path: `/api/connections/matrix-private/object?key=${key}` };
    },
  },

  // Remote signing: matrix-private signs for alice's group only (signingAllowedBy), like its other rules.
  'POST /api/connections/:name/iceberg/v1/aws/s3/sign': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({
      path: '/api/connections/matrix-private/iceberg/v1/aws/s3/sign',
      body: {
        region: rg.backend.region,
        method: 'GET',
        uri: `${rg.backend.endpoint}/${rg.seed.bucket}/sales/matrix/hello.txt`,
        headers: {},
      },
    }),
  },
  'POST /api/connections/:name/presign': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/connections/matrix-private/presign', body: { key: 'matrix/hello.txt' } }),
  },

  // Fast path.
  'POST /api/exec-tokens': {
    expect: row(404, 404, 201, NOT_USABLE),
    request: () => ({ path: '/api/exec-tokens', body: { connection: 'matrix-private' } }),
  },
  'GET /api/exec-tokens': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/exec-tokens' }) },
  // An admin may revoke anyone's exec token.
  'DELETE /api/exec-tokens/:id': {
    expect: row(404, 404, 204, 204),
    request: async () => {
      const res = await rg.api(rg.tokens.alice, 'POST', '/api/exec-tokens', { connection: 'matrix-private' });
      return { path: `/api/exec-tokens/${(res.json as { id: string }).id}` };
    },
  },
  // Authenticated by an exec token in the raw Authorization header, never by an API token.
  'GET /api/exec/credentials': {
    expect: {
      anonymous: 401,
      badToken: 401,
      noRights: 401,
      otherUser: 401,
      withRights: 401,
      admin: 401,
    },
    request: () => ({ path: '/api/exec/credentials' }),
  },
  'GET /api/me/fast-path': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/me/fast-path' }) },
  // Revoking is the admin's, or a user's own (bob here); another user is not even known to an analyst.
  'POST /api/connections/:name/revocations': {
    expect: row([404, 'user.not_found'], 200, [404, 'user.not_found'], 200),
    request: () => ({ path: '/api/connections/s3-sales/revocations', body: { username: 'bob' } }),
  },
  'GET /api/connections/:name/revocations': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/connections/s3-sales/revocations' }),
  },

  // Federation sessions and mounts.
  'GET /api/me/roles': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/me/roles' }) },
  'POST /api/sessions': { expect: row(201, 201, 201, 201), request: () => ({ path: '/api/sessions', body: {} }) },
  'GET /api/sessions': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/sessions' }) },
  // Sessions are personal: nobody else, the admin included, sees alice's.
  'POST /api/sessions/:id/role': {
    expect: row(404, 404, 200, 404),
    request: async () => ({
      path: `/api/sessions/${await aliceSession()}/role`,
      body: { roleArn: rg.seed.salesRoleArn },
    }),
  },
  'DELETE /api/sessions/:id': {
    expect: row(404, 404, 204, 404),
    request: async () => ({ path: `/api/sessions/${await aliceSession()}` }),
  },
  'POST /api/mounts': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 201),
    request: () => ({ path: '/api/mounts', body: { path: unique('/matrix/m'), connection: 's3-sales' } }),
  },
  'GET /api/mounts': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/mounts' }) },
  'DELETE /api/mounts/*': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 204),
    request: async () => {
      const path = unique('/matrix/gone');
      await ok('POST', '/api/mounts', { path, connection: 's3-sales' });
      return { path: `/api/mounts${path}` };
    },
  },
  'GET /api/mnt/*': {
    expect: row([403, 'template.property_missing'], 200, 200, [403, 'template.property_missing']),
    request: () => ({ path: '/api/mnt/matrix/sales/' }),
  },

  // Catalog and datasets (the binding is readable by users of the connection; browsing needs a binding).
  'GET /api/catalog/connections/:name': {
    expect: row(404, 404, 200, 200),
    request: () => ({ path: '/api/catalog/connections/matrix-private' }),
  },
  'PUT /api/catalog/connections/:name': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/catalog/connections/matrix-private', body: { catalog: 'internal' } }),
  },
  'GET /api/catalog/connections/:name/databases': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/catalog/connections/matrix-private/databases' }),
  },
  'GET /api/catalog/connections/:name/databases/:database/tables': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/catalog/connections/matrix-private/databases/matrix/tables' }),
  },
  'GET /api/catalog/connections/:name/databases/:database/tables/:table': {
    expect: row(404, 404, 404, NOT_USABLE),
    request: () => ({ path: '/api/catalog/connections/matrix-private/databases/matrix/tables/none' }),
  },
  'POST /api/datasets': {
    expect: row(404, 404, 201, NOT_USABLE),
    request: () => ({
      path: '/api/datasets',
      body: { project: 'matrix', name: unique('ds'), connection: 'matrix-private', format: 'csv' },
    }),
  },
  'GET /api/datasets': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/datasets' }) },
  'GET /api/datasets/:project/:dataset': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/datasets/matrix/fixed' }),
  },
  'DELETE /api/datasets/:project/:dataset': {
    expect: row(404, 404, 204, NOT_USABLE),
    request: async () => ({ path: `/api/datasets/matrix/${await aliceDataset()}` }),
  },
  'GET /api/datasets/:project/:dataset/data': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({ path: '/api/datasets/matrix/fixed/data' }),
  },
  'PUT /api/datasets/:project/:dataset/data': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: () => ({
      path: '/api/datasets/matrix/fixed/data?file=direct.csv',
      body: 'a,b\n1,2\n',
      headers: { 'content-type': 'text/csv' },
    }),
  },
  'POST /api/datasets/:project/:dataset/writes': {
    expect: row(404, 404, 201, NOT_USABLE),
    request: () => ({ path: '/api/datasets/matrix/fixed/writes', body: { mode: 'append' } }),
  },
  'PUT /api/datasets/:project/:dataset/writes/:writeId/files': {
    expect: row(404, 404, 201, NOT_USABLE),
    request: async () => ({
      path: `/api/datasets/matrix/fixed/writes/${await aliceWrite()}/files?file=part.csv`,
      body: 'a,b\n1,2\n',
      headers: { 'content-type': 'text/csv' },
    }),
  },
  'POST /api/datasets/:project/:dataset/writes/:writeId/commit': {
    expect: row(404, 404, 200, NOT_USABLE),
    request: async () => ({ path: `/api/datasets/matrix/fixed/writes/${await aliceWrite(true)}/commit` }),
  },
  'DELETE /api/datasets/:project/:dataset/writes/:writeId': {
    expect: row(404, 404, 204, NOT_USABLE),
    request: async () => ({ path: `/api/datasets/matrix/fixed/writes/${await aliceWrite()}` }),
  },

  // Audit: an analyst reads only their own events (asserted below); the chain and the export are the admin's.
  'GET /api/audit': { expect: row(200, 200, 200, 200), request: () => ({ path: '/api/audit' }) },
  'GET /api/audit/verify': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/audit/verify' }),
  },
  'GET /api/audit/unfinished': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/audit/unfinished' }),
  },
  'GET /api/audit/export': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/audit/export' }),
  },
  // Config as code: an empty declaration (prune off) plans and applies no change.
  'POST /api/config/plan': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/config/plan', body: {} }),
  },
  'POST /api/config/apply': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/config/apply', body: {} }),
  },
  'GET /api/config/export': {
    expect: row(ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, 200),
    request: () => ({ path: '/api/config/export' }),
  },
  // Explain: a user may explain their own access; another user does not exist for them.
  'GET /api/explain': {
    expect: row([404, 'user.not_found'], [404, 'user.not_found'], 200, 200),
    request: () => ({ path: '/api/explain?user=alice&connection=s3-sales' }),
  },
};

async function aliceSession(): Promise<string> {
  const res = await rg.api(rg.tokens.alice, 'POST', '/api/sessions', {});
  return (res.json as { id: string }).id;
}
async function aliceDataset(): Promise<string> {
  const name = unique('ds');
  const res = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
    project: 'matrix',
    name,
    connection: 'matrix-private',
    format: 'csv',
  });
  if (res.status !== 201) throw new Error(`setup dataset: ${res.status} ${res.text}`);
  return name;
}
async function aliceWrite(withFile = false): Promise<string> {
  const res = await rg.api(rg.tokens.alice, 'POST', '/api/datasets/matrix/fixed/writes', { mode: 'append' });
  if (res.status !== 201) throw new Error(`setup write: ${res.status} ${res.text}`);
  const writeId = (res.json as { writeId: string }).writeId;
  if (withFile) {
    const file = await fetch(`${rg.url}/api/datasets/matrix/fixed/writes/${writeId}/files?file=part.csv`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${rg.tokens.alice}`, 'content-type': 'text/csv' },
      body: 'a,b\n1,2\n',
    });
    if (file.status !== 201) throw new Error(`setup write file: ${file.status}`);
  }
  return writeId;
}

/** Every route the server registered, as `METHOD /template` (HEAD is Fastify's automatic twin of GET). */
function registeredRoutes(rgApp: TestRolegate): Set<string> {
  const found = new Set<string>();
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const tree = rgApp.app.http.printRoutes({ method, commonPrefix: false });
    const stack: string[] = [];
    for (const line of tree.split('\n')) {
      const m = /^([│ ]*)[├└]── (.*?) \(([A-Z, ]+)\)$/.exec(line);
      if (m === null) continue;
      const depth = (m[1] ?? '').length / 4;
      stack.length = depth;
      stack.push(m[2] ?? '');
      found.add(`${method} ${stack.join('')}`);
    }
  }
  // printRoutes places wildcard routes at the root ("*"), losing their prefix; the OpenAPI document keeps it.
  const wildcards = [...found].filter((r) => r.endsWith(' *'));
  for (const r of wildcards) found.delete(r);
  const doc = rgApp.app.http.swagger() as { paths: Record<string, Record<string, unknown>> };
  const documented: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (method === 'head') continue;
      const template = path.replace(/\{\*\}$/, '*').replace(/\{([^}]+)\}/g, ':$1');
      documented.push(`${method.toUpperCase()} ${template}`);
    }
  }
  for (const r of documented) found.add(r);
  // The web UI's hidden SPA fallback (`/*`) is one of printRoutes' root wildcards; ask the router for it.
  for (const w of wildcards) {
    const method = (w.split(' ')[0] ?? 'GET') as 'GET';
    if (rgApp.app.http.hasRoute({ method, url: '/*' })) found.add(`${method} /*`);
  }
  return found;
}

describe('authorization matrix: HTTP API', () => {
  beforeAll(async () => {
    rig = await startGatewayRig();
    rg = rig.rg;
    await ok('POST', '/api/groups', { name: 'matrix-group' });
    await ok('PUT', '/api/connections/matrix-conn', { ...connectionBody(), name: 'matrix-conn' }).catch(() =>
      ok('POST', '/api/connections', { ...connectionBody(), name: 'matrix-conn' }),
    );
    // Readable through the mount: alice and bob have salesRole, carol has none.
    await ok('POST', '/api/mounts', { path: '/matrix/sales', connection: 's3-sales' });
    await ok('POST', '/api/connections', {
      ...connectionBody(),
      name: 'matrix-private',
      usableBy: { groups: ['alice-team'] },
      detailsReadableBy: { groups: ['alice-team'] },
      signingAllowedBy: { groups: ['alice-team'] },
    });
    const put = await rg.api(rg.tokens.alice, 'PUT', '/api/connections/matrix-private/object?key=matrix/hello.txt');
    if (put.status !== 201) throw new Error(`setup object: ${put.status} ${put.text}`);
    await ok('PUT', '/api/catalog/connections/matrix-private', { catalog: 'internal' });
    const ds = await rg.api(rg.tokens.alice, 'POST', '/api/datasets', {
      project: 'matrix',
      name: 'fixed',
      connection: 'matrix-private',
      format: 'csv',
    });
    if (ds.status !== 201) throw new Error(`setup dataset: ${ds.status} ${ds.text}`);
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('has a row for every registered route, and no row for a route that does not exist', () => {
    const registered = registeredRoutes(rg);
    const table = new Set(Object.keys(ROUTES));
    expect([...registered].filter((r) => !table.has(r)).sort()).toEqual([]);
    expect([...table].filter((r) => !registered.has(r)).sort()).toEqual([]);
  });

  it('shows an analyst only their own audit events', async () => {
    const res = await rg.api(rg.tokens.bob, 'GET', '/api/audit');
    const actors = new Set((res.json as { events: { actor?: string }[] }).events.map((e) => e.actor));
    expect([...actors].filter((a) => a !== 'bob')).toEqual([]);
  });

  it('answers every cell as the table says', async () => {
    const mismatches: string[] = [];
    for (const [route, c] of Object.entries(ROUTES)) {
      const method = route.split(' ')[0] ?? 'GET';
      for (const persona of PERSONAS) {
        const req = await c.request(persona);
        const raw = typeof req.body === 'string';
        const token = tokenOf(persona);
        const headers: Record<string, string> = { ...req.headers };
        if (token !== undefined) headers.authorization = `Bearer ${token}`;
        if (route === 'GET /api/exec/credentials' && token !== undefined) headers.authorization = token;
        let body: string | undefined;
        if (req.body !== undefined) {
          body = raw ? (req.body as string) : JSON.stringify(req.body);
          headers['content-type'] ??= 'application/json';
        }
        const res = await fetch(`${rg.url}${req.path}`, { method, headers, body });
        const text = await res.text();
        rg.bodies.push(text);
        const want = c.expect[persona];
        const [status, code] = typeof want === 'number' ? [want, undefined] : want;
        let gotCode: string | undefined;
        try {
          gotCode = (JSON.parse(text) as { code?: string }).code;
        } catch {
          gotCode = undefined;
        }
        if (res.status !== status || (code !== undefined && gotCode !== code)) {
          mismatches.push(
            `${route} as ${persona}: want ${status}${code ? ` ${code}` : ''}, got ${res.status} ${gotCode ?? ''} ${text.slice(0, 160)}`,
          );
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  // Deny by default: a caller without a token is refused before the request is parsed or validated, so a
  // malformed request tells an anonymous caller nothing of the route's contract (no 400 naming fields).
  it('refuses an anonymous caller before reading the request: a malformed one answers 401, not 400', async () => {
    const mismatches: string[] = [];
    let tried = 0;
    for (const [route, c] of Object.entries(ROUTES)) {
      if (c.expect.anonymous !== UNAUTH) continue;
      const method = route.split(' ')[0] ?? 'GET';
      const { path } = await c.request('anonymous');
      // A query no route accepts, and for methods with a body, JSON that does not parse.
      const url = `${rg.url}${path}${path.includes('?') ? '&' : '?'}limit=-1&unknownField=1`;
      const withBody = method !== 'GET' && method !== 'DELETE';
      const res = await fetch(url, {
        method,
        headers: withBody ? { 'content-type': 'application/json' } : {},
        body: withBody ? '{"unterminated' : undefined,
      });
      const text = await res.text();
      rg.bodies.push(text);
      tried++;
      const code = (JSON.parse(text) as { code?: string }).code;
      if (res.status !== 401 || code !== 'auth.required')
        mismatches.push(`${route}: ${res.status} ${text.slice(0, 160)}`);
    }
    expect(tried).toBeGreaterThan(60);
    expect(mismatches).toEqual([]);
  });

  it('answers an anonymous request for an /api route that does not exist as it answers any: 401', async () => {
    const res = await fetch(`${rg.url}/api/no-such-route`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('auth.required');
    const known = await rg.api(rg.tokens.alice, 'GET', '/api/no-such-route');
    expect(known.status).toBe(404);
    expect((known.json as { code: string }).code).toBe('route.not_found');
  });
});

type GatewayCaller = 'badSignature' | 'revokedKey' | 'otherUser' | 'own';
const GATEWAY_CALLERS: readonly GatewayCaller[] = ['badSignature', 'revokedKey', 'otherUser', 'own'];

/** A gateway operation on alice's private connection, answered with 'ok' or the S3 error code. */
type GatewayOperation = (client: S3Client, bucket: string) => Promise<unknown>;

const GATEWAY_OPERATIONS: Record<string, { op: GatewayOperation; expect: Record<GatewayCaller, string> }> = {};
function gatewayRow(name: string, op: GatewayOperation, own = 'ok', otherUser = 'NoSuchBucket'): void {
  // A HEAD answer has no body, so only its status tells the error apart.
  const head = name.startsWith('Head');
  GATEWAY_OPERATIONS[name] = {
    op,
    expect: {
      badSignature: head ? 'http 403' : 'SignatureDoesNotMatch',
      revokedKey: head ? 'http 403' : 'InvalidAccessKeyId',
      otherUser,
      own,
    },
  };
}
// A connection the caller may not use does not exist for them (NoSuchBucket), as in the API (404).
gatewayRow('ListBuckets', (c) => c.send(new ListBucketsCommand({})), 'ok', 'ok');
gatewayRow('HeadBucket', (c, b) => c.send(new HeadBucketCommand({ Bucket: b })), 'ok', 'NotFound');
gatewayRow('ListObjectsV2', (c, b) => c.send(new ListObjectsV2Command({ Bucket: b })));
gatewayRow('PutObject', (c, b) => c.send(new PutObjectCommand({ Bucket: b, Key: 'gw/matrix.txt', Body: 'hello' })));
gatewayRow(
  'HeadObject',
  (c, b) => c.send(new HeadObjectCommand({ Bucket: b, Key: 'gw/matrix.txt' })),
  'ok',
  'NotFound',
);
gatewayRow('GetObject', async (c, b) => {
  const out = await c.send(new GetObjectCommand({ Bucket: b, Key: 'gw/matrix.txt' }));
  await out.Body?.transformToString();
});
gatewayRow('CreateMultipartUpload', async (c, b) => {
  const up = await c.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'gw/multi.bin' }));
  await c.send(new AbortMultipartUploadCommand({ Bucket: b, Key: 'gw/multi.bin', UploadId: up.UploadId }));
});
gatewayRow('DeleteObject', (c, b) => c.send(new DeleteObjectCommand({ Bucket: b, Key: 'gw/matrix.txt' })));

/** A wrong secret that is certain to differ: a fixed last character would equal the real one in 1 run of 64. */
function withLastCharacterChanged(secret: string): string {
  const last = secret.at(-1);
  return `${secret.slice(0, -1)}${last === 'x' ? 'y' : 'x'}`;
}

describe('authorization matrix: S3 gateway', () => {
  let gw: GatewayRig;
  beforeAll(async () => {
    gw = await startGatewayRig();
  });
  afterAll(async () => {
    await gw?.close();
  });

  function keyOf(caller: GatewayCaller): GatewayKey {
    switch (caller) {
      case 'badSignature':
        return {
          accessKeyId: gw.alice.accessKeyId,
          secretAccessKey: withLastCharacterChanged(gw.alice.secretAccessKey),
        };
      case 'revokedKey':
        return gw.revoked;
      case 'otherUser':
        return gw.bob;
      case 'own':
        return gw.alice;
    }
  }

  it('refuses anonymous requests to every operation with AccessDenied', async () => {
    for (const path of ['/', `/${gw.privateConnection}`, `/${gw.privateConnection}/gw/matrix.txt`]) {
      for (const method of ['GET', 'PUT', 'DELETE', 'POST']) {
        const res = await fetch(`${gw.endpoint}${path}`, { method, body: method === 'PUT' ? 'x' : undefined });
        expect([res.status, path, method]).toEqual([403, path, method]);
        expect(await res.text()).toContain('<Code>AccessDenied</Code>');
      }
    }
  });

  it('answers every operation × caller as the table says', async () => {
    const mismatches: string[] = [];
    for (const caller of GATEWAY_CALLERS) {
      const client = gatewayS3Client(gw, keyOf(caller));
      for (const [name, { op, expect: want }] of Object.entries(GATEWAY_OPERATIONS)) {
        const got = await op(client, gw.privateConnection).then(
          () => 'ok',
          (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
            err.name === 'Unknown' ? `http ${err.$metadata?.httpStatusCode}` : (err.name ?? String(err)),
        );
        if (got !== want[caller]) mismatches.push(`${name} as ${caller}: want ${want[caller]}, got ${got}`);
      }
      client.destroy();
    }
    expect(mismatches).toEqual([]);
  });
});
