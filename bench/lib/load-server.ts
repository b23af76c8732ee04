/**
 * The rolegate side of bench/load.ts, in its own process so its RSS is measured alone: a real app over the given
 * backend with `users` analysts (each with the demo's sales role) and `connections` connections on the sales
 * folder, an API token and a gateway key per user. Prints one JSON line on stdout, then serves until killed.
 */
import { randomBytes } from 'node:crypto';
import { salesConnection, startBenchApp } from './bench-app.js';

const users = Number(process.env.BENCH_USERS ?? 200);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
const bench = await startBenchApp({ bucket: `load-${randomBytes(3).toString('hex')}`, roleNamePrefix: 'load-' });
const { app, seed, tokens } = bench;
const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
const gateway = await app.gateway.listen({ host: '127.0.0.1', port: 0 });
const admin = await app.services.identity.authenticate(tokens.admin);

for (let c = 0; c < connections; c++) {
  await app.services.connections.create(admin, salesConnection(`load-${c}`, bench));
}
const people: Array<{ username: string; token: string; key: { accessKeyId: string; secretAccessKey: string } }> = [];
for (let u = 0; u < users; u++) {
  const username = `user${u}`;
  await app.services.identity.createUser(admin, { username, role: 'analyst' });
  await app.services.identity.setProperty(admin, username, 'salesRole', seed.salesRoleArn);
  const token = (await app.services.identity.createToken(admin, username, { name: 'load' })).token;
  const created = await app.http.inject({
    method: 'POST',
    url: `/api/users/${username}/gateway-keys`,
    headers: { authorization: `Bearer ${token}` },
    payload: { name: 'load' },
  });
  const key = created.json() as { accessKeyId: string; secretAccessKey: string };
  people.push({ username, token, key: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
}
process.stdout.write(`${JSON.stringify({ url, gateway, connections, people })}\n`);
bench.serveUntilTerminated();
