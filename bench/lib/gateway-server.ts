/**
 * The rolegate side of bench/gateway.ts, in its own process so its memory is measured alone: a real app over
 * the given backend (demo data and users), the S3 gateway listening, a gateway key for alice and alice's own
 * role session (for the direct runs). Prints one JSON line on stdout, then serves until killed.
 */
import { startBenchApp } from './bench-app.js';

const bench = await startBenchApp({ bucket: 'bench', roleNamePrefix: 'bench-' });
const { app, seed, tokens } = bench;
const endpoint = await app.gateway.listen({ host: '127.0.0.1', port: 0 });
const created = await app.http.inject({
  method: 'POST',
  url: '/api/users/alice/gateway-keys',
  headers: { authorization: `Bearer ${tokens.alice}` },
  payload: { name: 'bench' },
});
const key = created.json() as { accessKeyId: string; secretAccessKey: string };
const alice = await app.services.identity.authenticate(tokens.alice);
const role = await app.services.credentials.issue(alice, 's3-sales');
process.stdout.write(
  `${JSON.stringify({
    endpoint,
    bucket: seed.bucket,
    prefix: role.prefix,
    gatewayKey: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
    role: { accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken },
  })}\n`,
);
bench.serveUntilTerminated();
