import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ApiError, createApiClient } from '../api-client.js';
import { clientConfigPath, saveClientConfig } from '../client-config.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';

export const LOGIN_USAGE = `usage: rolegate login --url URL [--token TOKEN]
       rolegate login --oidc [--url URL] [--open] [--timeout SECONDS]
       rolegate login --oidc --device [--url URL] [--timeout SECONDS]
  Checks the token against rolegate and stores URL and token in ~/.config/rolegate/config.json (mode 0600).
  Without --token, ROLEGATE_TOKEN is used. ROLEGATE_URL and ROLEGATE_TOKEN always win over the file.
  --oidc signs in through rolegate's identity provider instead: the CLI listens on 127.0.0.1 for the browser
  to come back, then redeems a one-time code (with a PKCE verifier only it knows) for a session token, which
  is stored the same way. Without --url: ROLEGATE_URL, then the URL saved by the last login. --open also
  starts the system browser (xdg-open / open); otherwise open the printed URL yourself. Default timeout 300 s.
  --device is for a terminal whose machine has no browser (SSH, a notebook host): it prints a code and the
  provider's page to enter it on, in a browser on any device, and waits until you have approved it there.
`;

function baseUrlOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--url must be an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--url must be http(s)');
  if (parsed.username !== '' || parsed.password !== '') throw new UsageError('--url must not contain credentials');
  return url.replace(/\/+$/, '');
}

/** `rolegate login`: remember where rolegate is and who we are there, after checking both work. */
export async function loginCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      oidc: { type: 'boolean' },
      open: { type: 'boolean' },
      timeout: { type: 'string' },
      device: { type: 'boolean' },
    },
  });
  if (values.oidc) {
    if (values.token !== undefined) throw new UsageError('--oidc and --token exclude each other');
    if (values.device && values.open) throw new UsageError('--device and --open exclude each other');
    const url = values.url ?? (ctx.env.ROLEGATE_URL || (await savedUrl(ctx.env)));
    if (url === undefined) throw new UsageError('--url is required (or set ROLEGATE_URL)');
    const timeoutMs = (wholeNumber('--timeout', values.timeout) ?? 300) * 1000;
    if (values.device) return deviceLogin(baseUrlOf(url), ctx, { timeoutMs });
    return oidcLogin(baseUrlOf(url), ctx, { open: values.open ?? false, timeoutMs });
  }
  if (values.open !== undefined || values.timeout !== undefined || values.device !== undefined)
    throw new UsageError('--open, --timeout and --device need --oidc');
  const url = values.url;
  if (url === undefined) throw new UsageError('--url is required');
  const base = baseUrlOf(url);
  const token = values.token ?? ctx.env.ROLEGATE_TOKEN;
  if (token === undefined || token === '') throw new UsageError('--token is required (or set ROLEGATE_TOKEN)');
  return remember(base, token, ctx);
}

async function remember(base: string, token: string, ctx: CliContext): Promise<number> {
  const me = await createApiClient({ url: base, token }).me();
  const path = await saveClientConfig({ url: base, token }, ctx.env);
  ctx.stdout(`logged in to ${base} as ${me.username}; configuration saved in ${path}\n`);
  return 0;
}

/** The URL the last `rolegate login` saved, if any (the token there may be gone or expired). */
async function savedUrl(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const saved = JSON.parse(await readFile(clientConfigPath(env), 'utf8')) as { url?: unknown };
    return typeof saved.url === 'string' && saved.url !== '' ? saved.url : undefined;
  } catch {
    return undefined;
  }
}

const page = (message: string) => `<!doctype html><meta charset="utf-8"><title>rolegate</title><p>${message}</p>`;

/**
 * Waits on `server` for the browser to come back to `/callback` with our state: resolves to the one-time code,
 * rejects when the provider refused the login or nobody came back in time. Anything else is answered 404/400
 * and ignored (a stray request cannot end the wait).
 */
function awaitCallback(server: Server, state: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the browser did not come back in time: try again')), timeoutMs);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const headers = {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'",
      };
      if (req.method !== 'GET' || url.pathname !== '/callback') {
        res.writeHead(404, headers).end(page('Not found.'));
        return;
      }
      if (url.searchParams.get('state') !== state) {
        res.writeHead(400, headers).end(page('This sign-in was not started by this terminal.'));
        return;
      }
      const code = url.searchParams.get('code');
      clearTimeout(timer);
      if (code === null || code === '') {
        res.writeHead(200, headers).end(page('Sign-in failed. You can close this window.'));
        reject(new Error('the identity provider did not complete the login'));
        return;
      }
      res
        .writeHead(200, headers)
        .end(page('Signed in to rolegate. You can close this window and return to the terminal.'));
      resolve(code);
    });
  });
}

function openBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // The URL is printed anyway.
  }
}

/**
 * `rolegate login --oidc`: a loopback redirect (RFC 8252) through rolegate's own sign-in. The browser signs in
 * at the provider with rolegate as the client (rolegate's redirect URI, its PKCE and state); rolegate then
 * sends the browser to our 127.0.0.1 listener with a one-time code and our state. We redeem the code over
 * POST with the verifier of the S256 challenge we sent, so a code seen by anyone else is worthless, and the
 * session token is never in a URL.
 */
async function oidcLogin(
  base: string,
  ctx: CliContext,
  options: { open: boolean; timeoutMs: number },
): Promise<number> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(24).toString('base64url');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    const login = new URL(`${base}/auth/oidc/login`);
    login.searchParams.set('cli_redirect', `http://127.0.0.1:${port}/callback`);
    login.searchParams.set('cli_state', state);
    login.searchParams.set('cli_challenge', challenge);
    ctx.stderr(`Open this URL in your browser to sign in:\n\n  ${login.href}\n\nWaiting for the browser…\n`);
    if (options.open) openBrowser(login.href);
    const code = await awaitCallback(server, state, options.timeoutMs);

    const { body } = await postAnonymous(base, '/api/auth/oidc/cli-token', { code, codeVerifier: verifier });
    if (typeof body.token !== 'string') throw new ApiError(200, 'http.error', 'rolegate answered without a token');
    return await remember(base, body.token, ctx);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

type AnonymousAnswer = Record<string, unknown> & { token?: unknown; interval?: unknown };

/** A POST to one of rolegate's sign-in routes (no token yet); a 4xx/5xx becomes the ApiError its body names. */
async function postAnonymous(
  base: string,
  path: string,
  payload?: unknown,
): Promise<{ status: number; body: AnonymousAnswer }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    body: payload === undefined ? undefined : JSON.stringify(payload),
  });
  const text = await res.text();
  let body: AnonymousAnswer = {};
  try {
    body = JSON.parse(text) as AnonymousAnswer;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      typeof body.code === 'string' ? body.code : 'http.error',
      typeof body.message === 'string' ? body.message : `rolegate answered ${res.status}`,
      typeof body.requestId === 'string' ? body.requestId : undefined,
    );
  }
  return { status: res.status, body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `rolegate login --oidc --device`: a device sign-in (RFC 8628) through rolegate, for a terminal on a machine
 * without a browser. rolegate starts it at the provider and keeps the provider's device code; we show the user
 * code and the page to enter it on, then poll rolegate at the interval it names until the user has approved.
 */
async function deviceLogin(base: string, ctx: CliContext, options: { timeoutMs: number }): Promise<number> {
  const { body: started } = await postAnonymous(base, '/api/auth/oidc/device');
  const { deviceRequest, userCode, verificationUri, verificationUriComplete, expiresIn } = started;
  if (typeof deviceRequest !== 'string' || typeof userCode !== 'string' || typeof verificationUri !== 'string') {
    throw new ApiError(200, 'http.error', 'rolegate answered the device sign-in without a code');
  }
  ctx.stderr(
    `To sign in, open ${verificationUri} in a browser on any device and enter the code\n\n  ${userCode}\n\n` +
      (typeof verificationUriComplete === 'string' ? `(or open ${verificationUriComplete})\n` : '') +
      'Waiting for the sign-in to be approved…\n',
  );
  const deadline = Date.now() + Math.min(options.timeoutMs, (typeof expiresIn === 'number' ? expiresIn : 600) * 1000);
  let interval = typeof started.interval === 'number' ? started.interval : 5;
  while (Date.now() + interval * 1000 <= deadline) {
    await sleep(interval * 1000);
    const { status, body } = await postAnonymous(base, '/api/auth/oidc/device/token', { deviceRequest });
    if (status === 200 && typeof body.token === 'string') return remember(base, body.token, ctx);
    if (typeof body.interval === 'number') interval = body.interval;
  }
  throw new Error('the sign-in was not approved in time: try again');
}
