import { Agent, request } from 'node:http';

/** What a benchmark needs of an answer: its status, headers and how many body bytes arrived. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/**
 * A lean keep-alive HTTP/1.1 client on node:http for benchmarks where client and servers share two cores. Node
 * 20's fetch (undici) spent about 1 ms of CPU per request here, more than the S3 server itself; that CPU came
 * out of the servers being compared, whatever they did.
 */
export class BenchHttpClient {
  readonly #agent: Agent;

  constructor(maxSockets: number) {
    this.#agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send(
    url: string,
    init: { method?: string; headers?: Readonly<Record<string, string>>; body?: string } = {},
  ): Promise<HttpAnswer> {
    const target = new URL(url);
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: init.method ?? 'GET',
          headers: { ...init.headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
