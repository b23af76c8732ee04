/**
 * The rolegate side of bench/signing.ts, in its own process as in production: a query engine does not share its
 * event loop with the signer (in one process, the client's reading of 512 KiB range answers held each signing
 * call for 6–40 ms). A real app over the given backend with the demo's users and a connection `bench-sign` on the
 * sales folder that signs for everyone. Prints one JSON line on stdout (URL, alice's token, the bucket and alice's
 * vended credentials for the fast path), then serves until SIGTERM.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { salesConnection, startBenchApp } from './bench-app.js';

/** What the bench learns from this process. */
export interface SigningServerFacts {
  readonly url: string;
  readonly token: string;
  readonly bucket: string;
  readonly vended: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

const bench = await startBenchApp({ bucket: 'bench-signing', roleNamePrefix: 'bench-signing-' });
const { app, seed, tokens } = bench;
const url = await app.http.listen({ host: '127.0.0.1', port: 0 });
const admin = await app.services.identity.authenticate(tokens.admin);
await app.services.connections.create(admin, salesConnection('bench-sign', bench, { signingAllowedBy: 'everyone' }));
const alice = await app.services.identity.authenticate(tokens.alice);
const vended = await app.services.credentials.issue(alice, 'bench-sign');
const facts: SigningServerFacts = {
  url,
  token: tokens.alice,
  bucket: seed.bucket,
  vended: {
    accessKeyId: vended.accessKeyId,
    secretAccessKey: vended.secretAccessKey,
    sessionToken: vended.sessionToken,
  },
};
process.stdout.write(`${JSON.stringify(facts)}\n`);

// With BENCH_PROFILE_OUT, SIGUSR2 starts the V8 CPU profiler of this thread, and the next SIGUSR2 stops it and
// adds what it sampled to that file (one profile per window, as a JSON array), then writes `profiled` on stdout.
const profileOut = process.env.BENCH_PROFILE_OUT;
if (profileOut !== undefined) {
  const session = new Session();
  session.connect();
  const profiles: unknown[] = [];
  let running = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!running) {
        running = true;
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        process.stdout.write('profiling\n');
        return;
      }
      running = false;
      const { profile } = await session.post('Profiler.stop');
      profiles.push(profile);
      await writeFile(profileOut, JSON.stringify(profiles));
      process.stdout.write('profiled\n');
    })();
  });
}
bench.serveUntilTerminated();
