import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webAssets } from './web-assets.js';

let dir: string;
let logs: string[];

async function serverWith(root: string): Promise<FastifyInstance> {
  logs = [];
  const app = Fastify({
    logger: {
      level: 'info',
      stream: { write: (line: string) => void logs.push(line) },
    },
  });
  app.setNotFoundHandler((_req, reply) => void reply.status(404).send({ code: 'route.not_found' }));
  app.get('/api/thing', async () => ({ ok: true }));
  await app.register(webAssets, { root });
  await app.ready();
  return app;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rolegate-web-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('web assets', () => {
  it('serves files, hashed assets for good, and index.html for UI routes only', async () => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>ui</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = await serverWith(dir);

    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');

    for (const url of ['/', '/data/s3-sales?prefix=2024%2F', '/users/bob', '/index.html']) {
      const page = await app.inject({ url });
      expect(page.statusCode, url).toBe(200);
      expect(page.body).toContain('<title>ui</title>');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    }

    expect((await app.inject({ url: '/api/thing' })).json()).toEqual({ ok: true });
    for (const url of ['/api/nope', '/api', '/docs/nope', '/assets/gone-123.js']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ code: 'route.not_found' });
    }
    expect((await app.inject({ method: 'POST', url: '/users' })).statusCode).toBe(404);
    // A malformed path never falls back to the page (Fastify refuses it first).
    expect((await app.inject({ url: '/%E0%A4%A' })).statusCode).toBe(400);
    await app.close();
  });

  it('never serves a file outside the build', async () => {
    await writeFile(join(dir, 'index.html'), '<title>ui</title>');
    await writeFile(join(dir, '..', 'rolegate-web-outside.txt'), 'secret').catch(() => {});
    const app = await serverWith(dir);
    for (const url of [
      '/../rolegate-web-outside.txt',
      '/%2e%2e/rolegate-web-outside.txt',
      '/..%2frolegate-web-outside.txt',
    ]) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('secret');
    }
    await app.close();
    await rm(join(dir, '..', 'rolegate-web-outside.txt'), { force: true });
  });

  it('starts API-only without a build, and says so once', async () => {
    const app = await serverWith(join(dir, 'missing'));
    expect(logs.filter((l) => l.includes('web UI not built'))).toHaveLength(1);
    expect((await app.inject({ url: '/' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/thing' })).statusCode).toBe(200);
    await app.close();
  });
});
