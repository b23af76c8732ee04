// biome-ignore-all lint/suspicious/noTemplateCurlyInString: connection templates are literal ${...} placeholders.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventResponse } from '../../src/modules/audit/audit.routes.js';
import type { PresignResponse, S3SignResponse } from '../../src/modules/signing/signing.routes.js';
import { cleanEnv, type RealClients, realClients, requireBuiltCli, run, runCli } from '../harness/cli.js';
import {
  findLeaks,
  salesConnectionBody,
  startTestRolegate,
  type TestRolegate,
  uniqueSuffix,
} from '../harness/rolegate.js';

let rg: TestRolegate;
let clients: RealClients;
let dir: string;
/** Signing allowed for everyone, read-write on sales/. */
let sig: string;
/** The same, read-only. */
let sigRo: string;
/** signingAllowedBy left at its default (nobody), details readable: credentials yes, signing no. */
let noSig: string;

const signPath = (connection: string) => `/api/connections/${connection}/iceberg/v1/aws/s3/sign`;

beforeAll(async () => {
  requireBuiltCli();
  [rg, clients] = await Promise.all([startTestRolegate(), realClients()]);
  dir = await mkdtemp(join(tmpdir(), 'rolegate-signing-'));
  const suffix = uniqueSuffix();
  [sig, sigRo, noSig] = [`sig-${suffix}`, `sigro-${suffix}`, `nosig-${suffix}`];
  for (const body of [
    { name: sig, detailsReadableBy: 'everyone', signingAllowedBy: 'everyone' },
    { name: sigRo, readOnly: true, signingAllowedBy: 'everyone' },
    { name: noSig, detailsReadableBy: 'everyone' },
  ].map((fields) => salesConnectionBody(rg, fields))) {
    const res = await rg.api(rg.tokens.admin, 'POST', '/api/connections', body);
    expect(res.status, res.text).toBe(201);
  }
});

afterAll(async () => {
  await rg?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The Iceberg S3 signer protocol, as a client sends it; signatures and the token are registered as secrets. */
async function sign(
  connection: string,
  method: string,
  uri: string,
  headers: Record<string, string[]> = {},
  token = rg.tokens.alice,
  body?: string,
): Promise<{ status: number; json: S3SignResponse; code?: string; cacheControl: string | null }> {
  const res = await rg.api(token, 'POST', signPath(connection), {
    region: rg.backend.region,
    method,
    uri,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const json = res.json as S3SignResponse & { code?: string };
  for (const [name, values] of Object.entries(json.headers ?? {})) {
    if (name === 'authorization' || name === 'x-amz-security-token') for (const v of values) rg.secrets.add(v);
  }
  return { status: res.status, json, code: json.code, cacheControl: res.headers.get('cache-control') };
}

/** Sends a signed request straight to S3 (RGW), with the client's own headers plus the signed ones. */
async function send(
  method: string,
  signed: S3SignResponse,
  headers: Record<string, string[]> = {},
  body?: string,
): Promise<Response> {
  const all = new Headers();
  for (const [name, values] of [...Object.entries(headers), ...Object.entries(signed.headers)]) {
    if (name.toLowerCase() === 'host') continue;
    for (const v of values) all.append(name, v);
  }
  return fetch(signed.uri, { method, headers: all, body });
}

const objectUri = (key: string, bucket = rg.seed.bucket) => `${rg.backend.endpoint}/${bucket}/${key}`;

async function signingEvents(connection: string): Promise<AuditEventResponse[]> {
  await rg.app.trail.flush();
  const res = await rg.api(rg.tokens.admin, 'GET', `/api/audit?connection=${connection}&limit=500`);
  expect(res.status, res.text).toBe(200);
  return (res.json as { events: AuditEventResponse[] }).events.filter((e) => e.action.startsWith('signing.'));
}

describe('remote signing (Iceberg S3 signer protocol) against RGW', () => {
  it('signs a GET whose session token is signed too; the request goes straight to RGW', async () => {
    const signed = await sign(sig, 'GET', objectUri('sales/2024/q1.csv'));
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    // An object read may be kept by Iceberg's signer client, which reuses an answer only when told exactly this.
    expect(signed.cacheControl).toBe('private');
    const h = signed.json.headers;
    expect(Object.keys(h).sort()).toEqual([
      'authorization',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(h['x-amz-content-sha256']).toEqual(['UNSIGNED-PAYLOAD']);
    expect(h.authorization?.[0]).toMatch(
      /^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    // The token is the user's role session's: the same one the fast path vends for this connection.
    const creds = await rg.api(rg.tokens.alice, 'POST', `/api/connections/${sig}/credentials`, {});
    const vended = creds.json as { SessionToken: string; SecretAccessKey: string };
    rg.secrets.add(vended.SecretAccessKey);
    rg.secrets.add(vended.SessionToken);
    expect(h['x-amz-security-token']).toEqual([vended.SessionToken]);

    const res = await send('GET', signed.json);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(rg.seed.objects['sales/2024/q1.csv']);
  });

  it('signs a DeleteObjects whose body names only keys in scope (as Iceberg sends it); RGW authenticates it', async () => {
    const folder = `sales/bulk-${uniqueSuffix()}/`;
    const keys = [`${folder}data/a.parquet`, `${folder}data/b.parquet`, `${folder}metadata/1.json`];
    for (const key of keys) {
      const put = await sign(sig, 'PUT', objectUri(key), { 'Content-Length': ['1'] });
      expect((await send('PUT', put.json, { 'Content-Length': ['1'] }, 'x')).status).toBe(200);
    }
    const xml = (names: readonly string[]) =>
      `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${names
        .map((k) => `<Object><Key>${k}</Key></Object>`)
        .join('')}</Delete>`;
    const body = xml(keys);
    const headers = {
      'Content-Type': ['application/xml'],
      'Content-MD5': [createHash('md5').update(body).digest('base64')],
    };
    const deleteUri = `${rg.backend.endpoint}/${rg.seed.bucket}?delete`;
    const signed = await sign(sig, 'POST', deleteUri, headers, rg.tokens.alice, body);
    expect(signed.status, JSON.stringify(signed.json)).toBe(200);
    expect(signed.cacheControl).toBe('no-cache, no-store');
    // The body is signed with it (its keys are what was checked): S3 refuses any other body under this signature.
    expect(signed.json.headers['x-amz-content-sha256']).toEqual([createHash('sha256').update(body).digest('hex')]);
    // RGW 16 refuses a multi-object delete from a role session scoped to a prefix: its permission check does not
    // evaluate each key as AWS does (rolegate's own gateway deletes key by key for that reason). Proven here: the
    // signature holds, since the same answer with its signature altered is a SignatureDoesNotMatch instead.
    const res = await send('POST', signed.json, headers, body);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    const authorization = signed.json.headers.authorization?.[0] ?? '';
    const altered = authorization.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const tampered = await send(
      'POST',
      { ...signed.json, headers: { ...signed.json.headers, authorization: [altered] } },
      headers,
      body,
    );
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    for (const key of keys) {
      const head = await sign(sig, 'HEAD', objectUri(key));
      expect((await send('HEAD', head.json)).status).toBe(200);
    }

    // One key outside the scope in the body: refused before anything is signed, whatever else it names.
    const outside = await sign(sig, 'POST', deleteUri, headers, rg.tokens.alice, xml([keys[0] ?? '', 'marketing/x']));
    expect(outside.status).toBe(403);
    expect(outside.code).toBe('signing.outside_scope');
    const missing = await sign(sig, 'POST', deleteUri, headers);
    expect(missing.status).toBe(400);
    expect(missing.code).toBe('signing.invalid_body');
    const readOnly = await sign(sigRo, 'POST', deleteUri, headers, rg.tokens.alice, body);
    expect(readOnly.status).toBe(403);
    expect(readOnly.code).toBe('signing.method_not_allowed');

    const events = await signingEvents(sig);
    const allowed = events.find((e) => e.details?.operation === 'DeleteObjects' && e.outcome === 'allowed');
    expect(allowed).toMatchObject({ key: folder, details: { method: 'POST', objects: 3 } });
    expect(
      events.some((e) => e.outcome === 'denied' && e.reasonCode === 'signing.outside_scope' && e.key === 'marketing/x'),
    ).toBe(true);
  });

  it('a signed payload hash holds the body to it: RGW refuses another body under the same signature', async () => {
    // What binds a DeleteObjects body, shown on a PUT (RGW 16 refuses prefix-scoped multi-object deletes before it
    // reads their body): the signed x-amz-content-sha256 is checked against the bytes that arrive.
    const key = `sales/bound-${uniqueSuffix()}.txt`;
    const headers = {
      'Content-Length': ['5'],
      'x-amz-content-sha256': [createHash('sha256').update('right').digest('hex')],
    };
    const put = await sign(sig, 'PUT', objectUri(key), headers);
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    const swapped = await send('PUT', put.json, headers, 'wrong');
    expect(swapped.status).toBe(400);
    expect(await swapped.text()).toContain('XAmzContentSHA256Mismatch');
    // Nothing was written (a missing key is a 403 to a role session without a listing of it, as on AWS).
    const get = await sign(sig, 'GET', objectUri(key));
    expect((await send('GET', get.json)).status).toBe(403);
    expect((await send('PUT', put.json, headers, 'right')).status).toBe(200);
    expect(await (await send('GET', get.json)).text()).toBe('right');
  });

  it('signs PUT, HEAD, a ranged GET, a listing and DELETE; each works against RGW', async () => {
    const key = `sales/signed/${uniqueSuffix()}.txt`;
    const body = 'hello from a signed request\n';
    const putHeaders = { 'Content-Type': ['text/plain'], 'Content-Length': [String(body.length)] };
    const put = await sign(sig, 'PUT', objectUri(key), putHeaders);
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json.headers.authorization?.[0]).toContain('SignedHeaders=content-length;content-type;host;');
    expect(put.cacheControl).toBe('no-cache, no-store');
    expect((await send('PUT', put.json, putHeaders, body)).status).toBe(200);

    const head = await sign(sig, 'HEAD', objectUri(key));
    const headRes = await send('HEAD', head.json);
    expect(headRes.status).toBe(200);
    expect(headRes.headers.get('content-length')).toBe(String(body.length));

    const range = { Range: ['bytes=6-9'] };
    const rangedSigned = await sign(sig, 'GET', objectUri(key), range);
    const ranged = await send('GET', rangedSigned.json, range);
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe('from');
    // The kept answer serves other reads of the same object, as Iceberg's client reuses it: RGW accepts each.
    for (const [other, text] of [
      ['bytes=0-4', body.slice(0, 5)],
      ['bytes=-9', body.slice(-9)],
    ] as const) {
      const res = await send('GET', rangedSigned.json, { Range: [other] });
      expect([res.status, await res.text()]).toEqual([206, text]);
    }
    // ... but not another object, nor another method.
    expect((await send('GET', { ...rangedSigned.json, uri: objectUri('sales/2024/q1.csv') })).status).toBe(403);
    expect((await send('DELETE', rangedSigned.json)).status).toBe(403);

    const list = await sign(
      sig,
      'GET',
      `${rg.backend.endpoint}/${rg.seed.bucket}?list-type=2&prefix=sales%2Fsigned%2F`,
    );
    expect(list.status, JSON.stringify(list.json)).toBe(200);
    const listed = await send('GET', list.json);
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain(`<Key>${key}</Key>`);

    const del = await send('DELETE', (await sign(sig, 'DELETE', objectUri(key))).json);
    expect(del.status).toBe(204);
    // A missing key: 404, or 403 where the role may list only under a prefix condition (RGW answers 403).
    expect([403, 404]).toContain((await send('HEAD', (await sign(sig, 'HEAD', objectUri(key))).json)).status);

    const events = await signingEvents(sig);
    const operations = events.filter((e) => e.key?.startsWith('sales/signed/')).map((e) => e.details?.operation);
    expect(operations).toEqual(
      expect.arrayContaining(['PutObject', 'HeadObject', 'GetObject', 'ListObjectsV2', 'DeleteObject']),
    );
  });

  it('serves an Iceberg-style sequence with the headers an SDK sends (per-attempt ones are left unsigned)', async () => {
    const table = `sales/iceberg/t${uniqueSuffix()}`;
    const sdk = (extra: Record<string, string[]> = {}) => ({
      'User-Agent': ['aws-sdk-java/2.29 iceberg'],
      'amz-sdk-invocation-id': [crypto.randomUUID()],
      'amz-sdk-request': ['attempt=1; max=4'],
      ...extra,
    });
    const metadata = `${table}/metadata/00000-${uniqueSuffix()}.metadata.json`;
    const dataFile = `${table}/data/00000-0-${uniqueSuffix()}.parquet`;

    // 1. The table's metadata file does not exist yet (404, or 403 under RGW's prefix-conditioned listing).
    let h = sdk();
    const missing = await send('HEAD', (await sign(sig, 'HEAD', objectUri(metadata), h)).json, h);
    expect([403, 404]).toContain(missing.status);
    // 2. Write a data file and the metadata file.
    const payload = 'PAR1 not really parquet, but bytes PAR1';
    h = sdk({ 'Content-Type': ['application/octet-stream'], 'Content-Length': [String(payload.length)] });
    expect((await send('PUT', (await sign(sig, 'PUT', objectUri(dataFile), h)).json, h, payload)).status).toBe(200);
    const json = JSON.stringify({ 'format-version': 2, location: `s3://${rg.seed.bucket}/${table}` });
    h = sdk({ 'Content-Type': ['application/json'], 'Content-Length': [String(json.length)] });
    expect((await send('PUT', (await sign(sig, 'PUT', objectUri(metadata), h)).json, h, json)).status).toBe(200);
    // 3. Read the footer back with a Range, as a Parquet reader does, then the metadata in full.
    h = sdk({ Range: ['bytes=-4'] });
    const footer = await send('GET', (await sign(sig, 'GET', objectUri(dataFile), h)).json, h);
    expect([footer.status, await footer.text()]).toEqual([206, 'PAR1']);
    h = sdk();
    const meta = await send('GET', (await sign(sig, 'GET', objectUri(metadata), h)).json, h);
    expect(await meta.text()).toBe(json);
    // 4. List the table's prefix (orphan-file scans, directory-style listings).
    const prefix = encodeURIComponent(`${table}/`);
    h = sdk();
    const listing = await send(
      'GET',
      (await sign(sig, 'GET', `${rg.backend.endpoint}/${rg.seed.bucket}?list-type=2&prefix=${prefix}`, h)).json,
      h,
    );
    const xml = await listing.text();
    expect(xml).toContain(`<Key>${dataFile}</Key>`);
    expect(xml).toContain(`<Key>${metadata}</Key>`);
  });

  it('works for botocore with the signer hook PyIceberg installs (UNSIGNED + before-sign, add_header)', async () => {
    const script = join(dir, 'pyiceberg_signer.py');
    // The same request/response handling as PyIceberg's S3V4RestSigner (pyiceberg/io/fsspec.py).
    await writeFile(
      script,
      [
        'import json, os, sys, requests, boto3',
        'from botocore import UNSIGNED',
        'from botocore.config import Config',
        'signer_uri, token, endpoint, region, bucket, key = sys.argv[1:7]',
        'def sign(request, **_):',
        "    body = {'method': request.method, 'region': request.context['client_region'], 'uri': request.url,",
        "            'headers': {k: [v] for k, v in request.headers.items()}}",
        "    r = requests.post(f\"{signer_uri.rstrip('/')}/v1/aws/s3/sign\", headers={'Authorization': f'Bearer {token}'}, json=body)",
        '    r.raise_for_status()',
        '    out = r.json()',
        "    for k, v in out['headers'].items():",
        "        request.headers.add_header(k, ', '.join(v))",
        "    request.url = out['uri']",
        "cfg = Config(signature_version=UNSIGNED, s3={'addressing_style': 'path'},",
        "             request_checksum_calculation='when_required', response_checksum_validation='when_required')",
        "s3 = boto3.client('s3', endpoint_url=endpoint, region_name=region, config=cfg)",
        "s3.meta.events.register_last('before-sign.s3', sign, unique_id=1925)",
        "s3.put_object(Bucket=bucket, Key=key, Body=b'written by botocore', ContentType='text/plain')",
        "got = s3.get_object(Bucket=bucket, Key=key)['Body'].read().decode()",
        "size = s3.head_object(Bucket=bucket, Key=key)['ContentLength']",
        "listed = [o['Key'] for o in s3.list_objects_v2(Bucket=bucket, Prefix=key.rsplit('/', 1)[0] + '/').get('Contents', [])]",
        'try:',
        "    s3.get_object(Bucket=bucket, Key='marketing/campaigns.csv')",
        "    refused = 'no'",
        'except Exception as e:',
        '    refused = type(e).__name__',
        "print(json.dumps({'got': got, 'size': size, 'listed': listed, 'refused': refused}))",
      ].join('\n'),
    );
    const key = `sales/py/${uniqueSuffix()}.txt`;
    const res = await run(
      clients.python,
      [
        script,
        `${rg.url}/api/connections/${sig}/iceberg`,
        rg.tokens.alice,
        rg.backend.endpoint,
        rg.backend.region,
        rg.seed.bucket,
        key,
      ],
      cleanEnv({}),
    );
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { got: string; size: number; listed: string[]; refused: string };
    // The refusal happens at signing time (the signer's HTTP error), before any request reaches RGW.
    expect(out).toEqual({ got: 'written by botocore', size: 19, listed: [key], refused: 'HTTPError' });
  });
});

describe('refusals at signing time, each with its code and an audit event', () => {
  const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof sign>>>, number, string]> = [
    [
      'a key outside the scope',
      () => sign(sig, 'GET', objectUri('marketing/campaigns.csv')),
      403,
      'signing.outside_scope',
    ],
    [
      'the look-alike sibling prefix',
      () => sign(sig, 'GET', objectUri('sales-archive/2023.csv')),
      403,
      'signing.outside_scope',
    ],
    [
      'another bucket',
      () => sign(sig, 'GET', objectUri('sales/2024/q1.csv', 'other-bucket')),
      403,
      'signing.outside_scope',
    ],
    [
      'another host',
      () => sign(sig, 'GET', objectUri('sales/2024/q1.csv').replace('127.0.0.1', 'localhost')),
      403,
      'signing.host_mismatch',
    ],
    [
      'a listing of the whole bucket',
      () => sign(sig, 'GET', `${rg.backend.endpoint}/${rg.seed.bucket}?list-type=2`),
      403,
      'signing.outside_scope',
    ],
    [
      'a write by a read-only user',
      () => sign(sigRo, 'PUT', objectUri('sales/nope.txt')),
      403,
      'signing.method_not_allowed',
    ],
    [
      'a user without signingAllowedBy',
      () => sign(noSig, 'GET', objectUri('sales/2024/q1.csv')),
      403,
      'signing.not_allowed',
    ],
    ['a traversal', () => sign(sig, 'GET', objectUri('sales/../marketing/campaigns.csv')), 400, 'key.invalid'],
  ];
  for (const [what, attempt, status, code] of cases) {
    it(`refuses ${what} (${code})`, async () => {
      const res = await attempt();
      expect([res.status, res.code], JSON.stringify(res.json)).toEqual([status, code]);
      expect(res.json.headers).toBeUndefined();
    });
  }

  it('audits every refusal with the key, and never a signature or token', async () => {
    const refused = [...(await signingEvents(sig)), ...(await signingEvents(sigRo)), ...(await signingEvents(noSig))]
      .filter((e) => e.outcome !== 'allowed')
      .map((e) => [e.reasonCode, e.key ?? null]);
    expect(refused).toEqual(
      expect.arrayContaining([
        ['signing.outside_scope', 'marketing/campaigns.csv'],
        ['signing.outside_scope', 'sales-archive/2023.csv'],
        ['signing.host_mismatch', null],
        ['signing.method_not_allowed', 'sales/nope.txt'],
        ['signing.not_allowed', null],
      ]),
    );
    const events = await signingEvents(sig);
    expect(events.find((e) => e.reasonCode === 'signing.outside_scope')).toMatchObject({
      actor: 'alice',
      action: 'signing.sign',
      outcome: 'denied',
      details: { method: 'GET' },
    });
    expect(JSON.stringify(events)).not.toMatch(/Signature=|X-Amz-Signature/);
  });

  it('is a 404 for a connection the user may not see, and 401 without a token', async () => {
    expect((await sign('no-such-connection', 'GET', objectUri('sales/x'))).status).toBe(404);
    const res = await rg.api(undefined, 'POST', signPath(sig), {
      region: 'x',
      method: 'GET',
      uri: objectUri('sales/x'),
      headers: {},
    });
    expect(res.status).toBe(401);
  });
});

describe('presigned URLs', () => {
  async function presign(connection: string, body: Record<string, unknown>, token = rg.tokens.alice) {
    const res = await rg.api(token, 'POST', `/api/connections/${connection}/presign`, body);
    const json = res.json as PresignResponse & { code?: string };
    if (res.status === 200) {
      const token = new URL(json.url).searchParams.get('X-Amz-Security-Token');
      if (token) rg.secrets.add(token);
      rg.secrets.add(new URL(json.url).searchParams.get('X-Amz-Signature') ?? '');
    }
    return { status: res.status, json };
  }

  it('presigns a GET with the role session (token in the URL); the URL works without rolegate', async () => {
    const p = await presign(sig, { key: '2024/q2.csv' });
    expect(p.status, JSON.stringify(p.json)).toBe(200);
    expect(p.json).toMatchObject({
      method: 'GET',
      bucket: rg.seed.bucket,
      key: 'sales/2024/q2.csv',
      expiresSeconds: 300,
    });
    const url = new URL(p.json.url);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBeTruthy();
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    const res = await fetch(p.json.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(rg.seed.objects['sales/2024/q2.csv']);
  });

  it('presigns a PUT for a writable scope, refuses it for a read-only one', async () => {
    const p = await presign(sig, { key: `presigned/${uniqueSuffix()}.txt`, method: 'PUT', expiresSeconds: 60 });
    expect(p.status, JSON.stringify(p.json)).toBe(200);
    expect((await fetch(p.json.url, { method: 'PUT', body: 'uploaded with a presigned URL' })).status).toBe(200);
    const back = await fetch((await presign(sig, { key: p.json.key.slice('sales/'.length) })).json.url);
    expect(await back.text()).toBe('uploaded with a presigned URL');
    const ro = await presign(sigRo, { key: 'x.txt', method: 'PUT' });
    expect([ro.status, ro.json.code]).toEqual([403, 'signing.method_not_allowed']);
  });

  it('expires: a 1-second URL is refused by RGW once it has lapsed', async () => {
    const p = await presign(sig, { key: '2024/q1.csv', expiresSeconds: 1 });
    expect(p.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await fetch(p.json.url)).status).toBe(403);
  });

  it('bounds the expiry and the key, and needs signingAllowedBy', async () => {
    for (const expiresSeconds of [0, 3601]) {
      const r = await presign(sig, { key: '2024/q1.csv', expiresSeconds });
      expect([r.status, r.json.code]).toEqual([400, 'signing.invalid_expiry']);
    }
    expect((await presign(sig, { key: '../marketing/campaigns.csv' })).json.code).toBe('key.invalid');
    expect((await presign(noSig, { key: '2024/q1.csv' })).json.code).toBe('signing.not_allowed');
    const events = (await signingEvents(sig)).filter((e) => e.action === 'signing.presign');
    expect(events.map((e) => e.outcome)).toEqual(expect.arrayContaining(['allowed', 'error']));
    expect(events.find((e) => e.outcome === 'allowed')?.key).toMatch(/^sales\//);
  });

  it('rolegate presign prints the URL (and --json the whole answer)', async () => {
    const env = cleanEnv({
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, '.config'),
      ROLEGATE_URL: rg.url,
      ROLEGATE_TOKEN: rg.tokens.alice,
    });
    const res = await runCli(['presign', '--connection', sig, '--key', '2024/q1.csv', '--expires', '120'], env);
    expect(res.code, res.stderr).toBe(0);
    const url = res.stdout.trim();
    rg.secrets.add(new URL(url).searchParams.get('X-Amz-Security-Token') ?? '');
    rg.secrets.add(new URL(url).searchParams.get('X-Amz-Signature') ?? '');
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('120');
    expect(await (await fetch(url)).text()).toBe(rg.seed.objects['sales/2024/q1.csv']);

    const put = await runCli(['presign', '--connection', sig, '--key', 'cli/up.txt', '--put', '--json'], env);
    expect(put.code, put.stderr).toBe(0);
    const answer = JSON.parse(put.stdout) as PresignResponse;
    rg.secrets.add(new URL(answer.url).searchParams.get('X-Amz-Security-Token') ?? '');
    rg.secrets.add(new URL(answer.url).searchParams.get('X-Amz-Signature') ?? '');
    expect(answer).toMatchObject({ method: 'PUT', key: 'sales/cli/up.txt', expiresSeconds: 300 });

    const refused = await runCli(['presign', '--connection', sigRo, '--key', 'x', '--put'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('signing.method_not_allowed');
    const usage = await runCli(['presign', '--key', 'x'], env);
    expect(usage.code).toBe(2);
  });
});

describe('secret hygiene', () => {
  it('logs no signature, token or secret; only sign/presign answers carry them', () => {
    const handsOut = (body: string) =>
      body.includes('"x-amz-security-token"') ||
      body.includes('X-Amz-Security-Token') ||
      body.includes('SecretAccessKey');
    expect(findLeaks(rg, handsOut)).toEqual([]);
  });
});
