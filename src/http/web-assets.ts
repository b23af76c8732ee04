import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export interface WebAssetsOptions {
  /** The built UI (`index.html` and `assets/`); default `web/dist` of this package. */
  readonly root?: string;
}

/**
 * The UI's own pages may only load what they ship and talk to their own origin; the API token lives in
 * sessionStorage, so no third-party script may ever run next to it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** `web/dist` of the package holding this module, whether it runs from `src/` (tests) or `dist/src/` (built). */
export function defaultWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'web', 'dist');
}

/** URL path (`/assets/x.js`) → file path relative to root, for every file of the build. */
function listFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = relative(root, join(entry.parentPath, entry.name));
    files.set(`/${rel.split(sep).join('/')}`, rel);
  }
  return files;
}

const isServerPath = (path: string) =>
  path === '/api' || path.startsWith('/api/') || path === '/docs' || path.startsWith('/docs/');

/**
 * Serves the built web UI at `/`: its files as they are (hashed assets cached for good), and `index.html`
 * for every other GET outside `/api` and `/docs`, so the UI's own routes survive a reload. Only files that
 * existed when the server started are served, so no request path ever reaches the file system. Without a
 * build the server runs API-only and says so once.
 */
export async function webAssets(app: FastifyInstance, options: WebAssetsOptions = {}): Promise<void> {
  const root = resolve(options.root ?? defaultWebRoot());
  if (!existsSync(join(root, 'index.html'))) {
    app.log.info({ root }, 'web UI not built (run `npm run build:web`); serving the API only');
    return;
  }
  const files = listFiles(root);
  await app.register(fastifyStatic, { root, serve: false });

  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    } catch {
      path = '';
    }
    const file = files.get(path);
    if (file !== undefined && file !== 'index.html') {
      const hashed = path.startsWith('/assets/');
      return reply.sendFile(file, hashed ? { maxAge: '365d', immutable: true } : { maxAge: 0 });
    }
    // A missing hashed asset is a stale page asking for an old build: a 404, not the HTML page.
    if (isServerPath(path) || path.startsWith('/assets/') || path === '') return reply.callNotFound();
    void reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer');
    return reply.sendFile('index.html', { cacheControl: false });
  });
}
