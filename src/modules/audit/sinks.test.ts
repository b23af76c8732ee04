import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEvent, type ChainedAuditEvent, chain, GENESIS_HASH } from '../../domain/audit-event.js';
import { databaseSink, fileSink, webhookSink } from './sinks.js';

function events(count: number, from = 1): ChainedAuditEvent[] {
  const out: ChainedAuditEvent[] = [];
  let prev = { seq: from - 1, hash: GENESIS_HASH };
  for (let i = from; i < from + count; i++) {
    const content: AuditEvent = {
      id: `e-${i}`,
      time: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(),
      actor: 'alice',
      action: 'object.get',
      key: `k/${i}`,
      outcome: 'allowed',
    };
    const e = chain(prev, content);
    out.push(e);
    prev = e;
  }
  return out;
}

const lineBytes = (e: ChainedAuditEvent) => Buffer.byteLength(`${JSON.stringify(e)}\n`);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function lines(path: string): Promise<ChainedAuditEvent[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ChainedAuditEvent);
}

describe('databaseSink', () => {
  it('appends every event of the batch in order', async () => {
    const appended: ChainedAuditEvent[] = [];
    const sink = databaseSink({ appendsInline: false, append: async (batch) => void appended.push(...batch) });
    const batch = events(3);
    await sink.write(batch);
    expect(appended).toEqual(batch);
    expect(sink.name).toBe('database');
  });

  it('fails the batch when an append fails', async () => {
    const sink = databaseSink({
      appendsInline: false,
      append: async () => {
        throw new Error('constraint');
      },
    });
    await expect(sink.write(events(1))).rejects.toThrow('constraint');
  });
});

describe('fileSink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rolegate-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per event to a new file with mode 0600', async () => {
    const path = join(dir, 'nested', 'audit.jsonl');
    const sink = fileSink({ path, maxBytes: 1_000_000, maxFiles: 3 });
    const first = events(2);
    const second = events(3, 3);
    await sink.write(first);
    await sink.write(second);

    expect(await lines(path)).toEqual([...first, ...second]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o077).toBe(0);
    expect(sink.name).toBe(`file:${path}`);
  });

  it('rotates before a write would exceed maxBytes, keeping at most maxFiles old files', async () => {
    const path = join(dir, 'audit.jsonl');
    const all = events(5);
    const size = lineBytes(all[0] as ChainedAuditEvent);
    // Room for two events per file (every event line here has the same length).
    for (const e of all) expect(lineBytes(e)).toBe(size);
    const sink = fileSink({ path, maxBytes: size * 2, maxFiles: 2 });
    const seqs = async (p: string) => (await lines(p)).map((e) => e.seq);

    await sink.write(all.slice(0, 2));
    expect(await seqs(path)).toEqual([1, 2]);
    expect(await exists(`${path}.1`)).toBe(false);

    await sink.write(all.slice(2, 3));
    expect(await seqs(path)).toEqual([3]);
    expect(await seqs(`${path}.1`)).toEqual([1, 2]);

    await sink.write(all.slice(3, 4));
    expect(await seqs(path)).toEqual([3, 4]);

    await sink.write(all.slice(4, 5));
    expect(await seqs(path)).toEqual([5]);
    expect(await seqs(`${path}.1`)).toEqual([3, 4]);
    expect(await seqs(`${path}.2`)).toEqual([1, 2]);

    await sink.write(events(1, 6));
    await sink.write(events(1, 7));
    // The oldest file was dropped: never more than maxFiles rotated files.
    expect(await seqs(path)).toEqual([7]);
    expect(await seqs(`${path}.1`)).toEqual([5, 6]);
    expect(await seqs(`${path}.2`)).toEqual([3, 4]);
    expect(await exists(`${path}.3`)).toBe(false);
    for (const p of [path, `${path}.1`, `${path}.2`]) expect((await stat(p)).mode & 0o777).toBe(0o600);
  });
});

describe('webhookSink', () => {
  let server: Server;
  let url: string;
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;

  beforeEach(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs the batch as a JSON array with its headers', async () => {
    const received: { method?: string; path?: string; type?: string; auth?: string; body: unknown }[] = [];
    handler = (req, res, body) => {
      received.push({
        method: req.method,
        path: req.url,
        type: req.headers['content-type'],
        auth: req.headers.authorization,
        body: JSON.parse(body),
      });
      res.writeHead(204).end();
    };
    const sink = webhookSink({ url, timeoutMs: 2_000, headers: { authorization: 'Bearer t' } });
    const batch = events(3);

    await sink.write(batch);

    expect(received).toEqual([
      { method: 'POST', path: '/audit', type: 'application/json', auth: 'Bearer t', body: batch },
    ]);
    expect(sink.name).toBe(`webhook:${new URL(url).host}`);
  });

  it.each([400, 401, 500, 503])('treats a %i answer as a refusal', async (status) => {
    handler = (_req, res) => {
      res.writeHead(status).end('no');
    };
    const sink = webhookSink({ url, timeoutMs: 2_000 });
    await expect(sink.write(events(1))).rejects.toThrow();
  });

  it('treats a redirect as a refusal, even when the redirect target answers 2xx', async () => {
    // Following a 302/303 would turn the POST into a GET without the events and still "succeed".
    const seen: string[] = [];
    handler = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/audit') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end('ok');
    };
    const sink = webhookSink({ url, timeoutMs: 2_000 });
    await expect(sink.write(events(1))).rejects.toThrow();
    expect(seen).toEqual(['POST /audit']);
  });

  it('aborts after its timeout against a server that never answers', async () => {
    let requests = 0;
    handler = () => {
      requests++;
    };
    const sink = webhookSink({ url, timeoutMs: 100 });
    const started = performance.now();
    const error = await sink.write(events(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;

    expect(error).toBeInstanceOf(Error);
    expect(requests).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(1_000);
  });
});
