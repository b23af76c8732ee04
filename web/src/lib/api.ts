import type { ErrorBody } from './types';

/** An API answer other than 2xx, or no answer at all (`status` 0, code `network.unreachable`). */
export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }

  get code(): string {
    return this.body.code;
  }
}

function errorFrom(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.code === 'string' && typeof body.message === 'string')
      return new ApiError(status, body as ErrorBody);
  } catch {
    // not an API error body: described below
  }
  return new ApiError(status, {
    code: `http.${status}`,
    message: `the server answered ${status} without an error body`,
  });
}

const unreachable = () =>
  new ApiError(0, { code: 'network.unreachable', message: 'rolegate could not be reached; check your connection' });

/** Encodes one path segment (connection, user, group and property names). */
export const seg = (value: string) => encodeURIComponent(value);

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  send<T = void>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The response body as a Blob (object downloads). */
  blob(path: string): Promise<Blob>;
  /** PUTs a file as the raw body, reporting upload progress as a fraction 0…1. */
  upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void): Promise<T>;
}

/**
 * The one HTTP client of the UI: same-origin requests to /api with the bearer token. A 401 also calls
 * `onUnauthenticated` (the token expired or was revoked), so the session ends wherever it happens.
 */
export function createApiClient(token: string, onUnauthenticated: (error: ApiError) => void): ApiClient {
  const auth = { authorization: `Bearer ${token}` };
  const fail = (error: ApiError): never => {
    if (error.status === 401) onUnauthenticated(error);
    throw error;
  };

  async function request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { ...auth };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return fail(unreachable());
    }
    if (!res.ok) return fail(errorFrom(res.status, await res.text()));
    return res;
  }

  return {
    async get<T>(path: string) {
      return (await (await request('GET', path)).json()) as T;
    },
    async send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
      const res = await request(method, path, body);
      const text = await res.text();
      return (text === '' ? undefined : JSON.parse(text)) as T;
    },
    async blob(path: string) {
      return (await request('GET', path)).blob();
    },
    upload<T>(path: string, file: Blob, onProgress: (fraction: number) => void) {
      // fetch() cannot report upload progress; XMLHttpRequest can.
      return new Promise<T>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('PUT', path);
        xhr.setRequestHeader('authorization', auth.authorization);
        xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
        xhr.upload.onprogress = (e) => {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        };
        xhr.onerror = () => reject(unreachable());
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) {
            onProgress(1);
            resolve((xhr.responseText === '' ? undefined : JSON.parse(xhr.responseText)) as T);
            return;
          }
          const error = errorFrom(xhr.status, xhr.responseText);
          if (error.status === 401) onUnauthenticated(error);
          reject(error);
        };
        xhr.send(file);
      });
    },
  };
}
