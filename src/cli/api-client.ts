import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { NarrowingRequest } from '../domain/narrowing.js';
import type { CredentialsResponse } from '../modules/credentials/credentials.routes.js';
import type { ExecTokenResponse, FastPathResponse, RevocationResponse } from '../modules/fastpath/fastpath.routes.js';
import type { CreatedSessionResponse, EntitledRolesResponse } from '../modules/federation/sessions.routes.js';
import type { UserResponse } from '../modules/identity/identity.routes.js';

/** A refusal from the rolegate API: its stable code and message (never a secret), and the HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export interface ExecTokenRequest extends NarrowingRequest {
  readonly connection: string;
  readonly name?: string | undefined;
  readonly ttlSeconds?: number | undefined;
}

/** The REST API as the CLI uses it. One method per route; every answer typed by the route's own schema. */
export interface RolegateClient {
  readonly url: string;
  me(): Promise<UserResponse>;
  /** Every connection the caller may use, whether it vends credentials (`direct`) or not, and the gateway. */
  fastPath(): Promise<FastPathResponse>;
  credentials(connection: string, narrowing?: NarrowingRequest): Promise<CredentialsResponse>;
  createExecToken(request: ExecTokenRequest): Promise<ExecTokenResponse>;
  deleteExecToken(id: string): Promise<void>;
  revoke(connection: string, username: string): Promise<RevocationResponse>;
  /** The roles the caller may assume, with their sources. */
  roles(): Promise<EntitledRolesResponse>;
  /** A new rolegate session with an entitled role; its token is shown once. */
  createSession(body: { name?: string; roleArn?: string }): Promise<CreatedSessionResponse>;
  /** Any other route, for transports added later (e.g. gateway keys). */
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A route that answers text (exports), returned as it came. */
  requestText(method: string, path: string): Promise<string>;
  /** Streams a local file as the raw body of a route (dataset writes), with its length; answers the JSON reply. */
  uploadFile<T>(method: 'PUT' | 'POST', path: string, file: string, signal?: AbortSignal): Promise<T>;
  /** A route's body as a stream (dataset reads), once the status says it succeeded. */
  download(path: string, signal?: AbortSignal): Promise<Readable>;
}

export interface ApiClientOptions {
  readonly url: string;
  readonly token: string;
  readonly timeoutMs?: number;
}

const seg = encodeURIComponent;

export function createApiClient(options: ApiClientOptions): RolegateClient {
  const base = options.url.replace(/\/+$/, '');

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse((await send(method, path, body)) || 'null') as T;
  }

  async function send(method: string, path: string, body?: unknown): Promise<string> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ApiError(0, 'client.unreachable', `cannot reach rolegate at ${base}: ${why}`);
    }
    const text = await res.text();
    if (!res.ok) throw failure(res, text, method, path);
    return text;
  }

  function failure(res: Response, text: string, method: string, path: string): ApiError {
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const e = (json ?? {}) as { code?: unknown; message?: unknown; requestId?: unknown };
    return new ApiError(
      res.status,
      typeof e.code === 'string' ? e.code : `http.${res.status}`,
      typeof e.message === 'string' ? e.message : `rolegate answered ${res.status} to ${method} ${path}`,
      typeof e.requestId === 'string' ? e.requestId : undefined,
    );
  }

  /** No overall timeout: a large upload or download takes as long as it takes; `signal` stops it. */
  async function stream(method: string, path: string, init: RequestInit & { duplex?: 'half' }): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        ...init,
        method,
        headers: { authorization: `Bearer ${options.token}`, ...(init.headers as Record<string, string>) },
      });
    } catch (e) {
      if (init.signal?.aborted) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new ApiError(0, 'client.unreachable', `cannot reach rolegate at ${base}: ${why}`);
    }
    if (!res.ok) throw failure(res, await res.text(), method, path);
    return res;
  }

  const narrowingBody = (n: NarrowingRequest | undefined) => {
    if (n === undefined) return undefined;
    const body: NarrowingRequest = {
      ...(n.prefix !== undefined ? { prefix: n.prefix } : {}),
      ...(n.readOnly ? { readOnly: true } : {}),
      ...(n.durationSeconds !== undefined ? { durationSeconds: n.durationSeconds } : {}),
    };
    return Object.keys(body).length === 0 ? undefined : body;
  };

  return {
    url: base,
    me: () => request('GET', '/api/me'),
    fastPath: () => request('GET', '/api/me/fast-path'),
    credentials: (connection, narrowing) =>
      request('POST', `/api/connections/${seg(connection)}/credentials`, narrowingBody(narrowing)),
    createExecToken: (req) => request('POST', '/api/exec-tokens', req),
    deleteExecToken: (id) => request('DELETE', `/api/exec-tokens/${seg(id)}`),
    revoke: (connection, username) => request('POST', `/api/connections/${seg(connection)}/revocations`, { username }),
    roles: () => request('GET', '/api/me/roles'),
    createSession: (body) => request('POST', '/api/sessions', body),
    request,
    requestText: (method, path) => send(method, path),
    async uploadFile<T>(method: 'PUT' | 'POST', path: string, file: string, signal?: AbortSignal): Promise<T> {
      const { size } = await stat(file);
      const res = await stream(method, path, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(size),
          accept: 'application/json',
        },
        body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
        duplex: 'half',
        signal,
      });
      return JSON.parse((await res.text()) || 'null') as T;
    },
    async download(path, signal) {
      const res = await stream('GET', path, { signal });
      return res.body === null
        ? Readable.from([])
        : Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    },
  };
}
