/**
 * Benchmark of remote signing against the fast path, in one run over one local RGW: GETs of the same objects, each
 * sent straight to RGW, either signed by rolegate first (one POST to the Iceberg-compatible signer per request) or
 * signed locally with credentials vended once (what an SDK does on the fast path). Both use the same HTTP client
 * (fetch) with the same concurrency; modes alternate per round. Prints req/s and MiB/s of each and the ratio.
 *
 *   npm run bench:signing -- [--sizes 4096,1048576,8388608] [--requests 600] [--concurrency 8] [--rounds 3]
 *
 * Starts a dedicated local RGW and an in-process rolegate; deletes what it wrote.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { provisionDemo } from '../src/demo/demo-scenario.js';
import { pickFreePort, startLocalBackend } from '../src/demo/local-backend.js';
import { seedDemo } from '../src/demo/seed.js';

const TARGET_RATIO = 0.9;
const MiB = 1024 * 1024;

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBuffer = (d: Bytes) =>
  typeof d === 'string'
    ? d
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);
class Sha256 {
  #h;
  constructor(secret?: Bytes) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(d: Bytes) {
    this.#h.update(toBuffer(d));
  }
  async digest() {
    return new Uint8Array(this.#h.digest());
  }
  reset() {}
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '4096,1048576,8388608' },
    requests: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
  },
});
const sizes = (values.sizes ?? '').split(',').map(Number);
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

/** Runs `total` calls of `fn` with `concurrency` in flight; returns the seconds taken. */
async function timed(total: number, fn: () => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await fn();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function drain(res: Response, expected: number): Promise<void> {
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200 || body.byteLength !== expected)
    throw new Error(`GET answered ${res.status}, ${body.byteLength} bytes`);
}

const dir = await mkdtemp(join(tmpdir(), 'rolegate-bench-signing-'));
const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
try {
  process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
  process.env.AWS_REGION = backend.region;
  const seed = await seedDemo(backend, { bucket: 'bench-signing', roleNamePrefix: 'bench-signing-' });
  const app = await createApp({
    config: parseConfig({ dataDir: join(dir, 'state'), server: { port: 0 }, log: { level: 'warn' } }),
    env: { ROLEGATE_SECRET_KEY: randomBytes(32).toString('hex') },
  });
  const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const tokens = await provisionDemo(app.services, backend, seed);
  const admin = await app.services.identity.authenticate(tokens.admin);
  await app.services.connections.create(admin, {
    name: 'bench-sign',
    description: '',
    bucket: seed.bucket,
    path: 'sales/',
    region: backend.region,
    endpoint: backend.endpoint,
    forcePathStyle: true,
    useBucketRegion: false,
    readOnly: false,
    credentials: {
      mode: 'assume-role',
      roleArn: '${adminProperty:salesRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
    usableBy: 'everyone',
    detailsReadableBy: 'everyone',
    signingAllowedBy: 'everyone',
    allowedRoles: ['arn:aws:iam:::role/*'],
  });
  const alice = await app.services.identity.authenticate(tokens.alice);
  const vended = await app.services.credentials.issue(alice, 'bench-sign');
  const local = new SignatureV4({
    credentials: {
      accessKeyId: vended.accessKeyId,
      secretAccessKey: vended.secretAccessKey,
      sessionToken: vended.sessionToken,
    },
    region: backend.region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const endpoint = new URL(backend.endpoint);
  const writer = new S3Client({
    endpoint: backend.endpoint,
    region: backend.region,
    forcePathStyle: true,
    credentials: {
      accessKeyId: vended.accessKeyId,
      secretAccessKey: vended.secretAccessKey,
      sessionToken: vended.sessionToken,
    },
  });
  const keys = sizes.map((size) => `sales/bench/${size}.bin`);
  for (const [i, size] of sizes.entries()) {
    await writer.send(new PutObjectCommand({ Bucket: seed.bucket, Key: keys[i], Body: randomBytes(size) }));
  }

  const fastPathGet = (key: string, size: number) => async () => {
    const path = `/${seed.bucket}/${key}`;
    const signed = await local.sign({
      method: 'GET',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: Number(endpoint.port),
      path,
      query: {},
      headers: { host: endpoint.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    await drain(await fetch(`${backend.endpoint}${path}`, { headers: signed.headers }), size);
  };
  const signedGet = (key: string, size: number) => async () => {
    const res = await fetch(`${url}/api/connections/bench-sign/iceberg/v1/aws/s3/sign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        region: backend.region,
        method: 'GET',
        uri: `${backend.endpoint}/${seed.bucket}/${key}`,
        headers: {},
      }),
    });
    if (res.status !== 200) throw new Error(`sign answered ${res.status}`);
    const answer = (await res.json()) as { uri: string; headers: Record<string, string[]> };
    const headers = Object.fromEntries(Object.entries(answer.headers).map(([n, v]) => [n, v.join(', ')]));
    await drain(await fetch(answer.uri, { headers }), size);
  };

  console.log(
    `remote signing vs fast path: GETs straight to RGW, ${requests} requests × ${rounds} rounds, concurrency ${concurrency}`,
  );
  const ratios: number[] = [];
  for (const [i, size] of sizes.entries()) {
    const key = keys[i] ?? '';
    // Warm-up: connections, role session, caches.
    await timed(concurrency * 4, fastPathGet(key, size));
    await timed(concurrency * 4, signedGet(key, size));
    let fast = 0;
    let signed = 0;
    for (let r = 0; r < rounds; r++) {
      fast += await timed(requests, fastPathGet(key, size));
      signed += await timed(requests, signedGet(key, size));
    }
    const total = requests * rounds;
    const fastRps = total / fast;
    const signedRps = total / signed;
    const ratio = signedRps / fastRps;
    ratios.push(ratio);
    const mib = (rps: number) => ((rps * size) / MiB).toFixed(1);
    console.log(
      `  ${String(size).padStart(9)} B objects: fast path ${fastRps.toFixed(0)} req/s (${mib(fastRps)} MiB/s), ` +
        `signed ${signedRps.toFixed(0)} req/s (${mib(signedRps)} MiB/s), ratio ${ratio.toFixed(2)}× ` +
        `${ratio >= TARGET_RATIO ? 'OK' : `below the ${TARGET_RATIO}× target`}`,
    );
  }
  for (const key of keys) await writer.send(new DeleteObjectCommand({ Bucket: seed.bucket, Key: key }));
  writer.destroy();
  await app.close();
  console.log(
    `  target ${TARGET_RATIO}× met for ${ratios.filter((r) => r >= TARGET_RATIO).length} of ${ratios.length} sizes`,
  );
} finally {
  await backend.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
