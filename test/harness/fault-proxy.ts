import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does with the next connections. */
export type Fault =
  | { readonly kind: 'pass' }
  /** Holds every connection this long before forwarding a byte. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Forwards every chunk, both ways, this much later (latency on every round trip, not only the first). */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Forwards, then resets both sides once this many bytes went `direction` (down: to the client). */
  | { readonly kind: 'reset'; readonly afterBytes: number; readonly direction: 'up' | 'down' }
  /** Resets each connection as soon as it is accepted. */
  | { readonly kind: 'refuse' }
  /** Answers every request with HTTP 503 (a throttling or unavailable upstream) without forwarding it. */
  | { readonly kind: 'answer503' };

/**
 * A loopback TCP proxy in front of a real backend (RGW, its STS, PostgreSQL) whose behaviour a test switches at
 * will: pass, delay, slow, reset mid-stream, refuse, answer 503. It counts the connections it accepted.
 */
export interface FaultProxy {
  readonly url: string;
  set(fault: Fault): void;
  readonly accepted: () => number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let fault: Fault = { kind: 'pass' };
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };

  const server: Server = createServer((client) => {
    accepted += 1;
    track(client);
    const current = fault;
    if (current.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (current.kind === 'answer503') {
      client.once('data', () => {
        const body = '<Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>';
        client.end(
          `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/xml\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      return;
    }
    const forward = () => {
      if (client.destroyed) return;
      const upstream = connect(Number(to.port), to.hostname);
      track(upstream);
      const cut = () => {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      };
      if (current.kind === 'reset') {
        let seen = 0;
        const [from, into] = current.direction === 'down' ? [upstream, client] : [client, upstream];
        // The other direction flows untouched.
        if (current.direction === 'down') client.pipe(upstream);
        else upstream.pipe(client);
        from.on('data', (chunk: Buffer) => {
          const room = current.afterBytes - seen;
          seen += chunk.length;
          if (room > 0) into.write(chunk.subarray(0, room));
          if (seen >= current.afterBytes) cut();
        });
      } else if (current.kind === 'slow') {
        // Equal delays keep the order: timers of the same duration fire first in, first out.
        const later = (from: Socket, into: Socket) =>
          from.on('data', (chunk: Buffer) => setTimeout(() => into.destroyed || into.write(chunk), current.ms));
        later(client, upstream);
        later(upstream, client);
      } else {
        client.pipe(upstream);
        upstream.pipe(client);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    if (current.kind === 'delay') {
      client.pause();
      setTimeout(() => {
        client.resume();
        forward();
      }, current.ms);
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    set(next) {
      fault = next;
      // A fault applies to connections made from now on; pooled keep-alive connections are cut so it bites.
      for (const s of sockets) s.destroy();
    },
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
