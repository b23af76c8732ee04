/**
 * The bench's floor for any gateway: a bare HTTP pass-through, one hop between the S3 client and RGW that forwards
 * every request and answer as it comes (streams piped both ways, headers unchanged, so the client's signature stays
 * valid for RGW), and does nothing else. bench/gateway.ts runs it in a process of its own, as it runs rolegate.
 *
 *   node pass-through-proxy.js http://127.0.0.1:PORT    # prints {"endpoint": "http://127.0.0.1:…"} once listening
 */
import { Agent, createServer, request } from 'node:http';
import { pipeline } from 'node:stream/promises';

const upstream = new URL(process.argv[2] ?? '');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const server = createServer((req, res) => {
  const out = request(
    { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      pipeline(answer, res).catch(() => res.destroy());
    },
  );
  out.on('error', () => res.destroy());
  pipeline(req, out).catch(() => out.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${address.port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  agent.destroy();
  process.exit(0);
});
