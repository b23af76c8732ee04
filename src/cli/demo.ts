import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../app.js';
import { parseConfig } from '../config/load.js';
import { provisionDemo } from '../demo/demo-scenario.js';
import { pickFreePort, startLocalBackend } from '../demo/local-backend.js';
import { seedDemo } from '../demo/seed.js';

export interface DemoOptions {
  readonly port: number;
  /** Run the three scenarios, print what they showed, and exit (non-zero when one does not behave). */
  readonly check: boolean;
  readonly out: (line: string) => void;
}

interface Probe {
  readonly who: string;
  readonly path: string;
  readonly expectStatus: number;
  readonly expectText: string;
}

/**
 * `rolegate demo`: a local S3+STS backend (Ceph RGW), the demo data and roles, rolegate on localhost with
 * alice, bob and carol, and three commands to try. Everything lives in one temporary directory, removed on exit.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { out } = options;
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-demo-'));
  out('Starting a local S3 + STS server (Ceph RGW; installs its Debian packages on first use)...');
  const backend = await startLocalBackend({ dir: join(dir, 's3'), port: await pickFreePort() });
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  const cleanup = async () => {
    await app?.close().catch(() => undefined);
    await backend.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const seed = await seedDemo(backend);
    // The demo's rolegate takes its master credentials from its environment, like a production deployment.
    process.env.AWS_ACCESS_KEY_ID = backend.master.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = backend.master.secretAccessKey;
    process.env.AWS_REGION = backend.region;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    const config = parseConfig({ dataDir: join(dir, 'state'), server: { port: options.port }, log: { level: 'warn' } });
    app = await createApp({ config });
    const url = await listenWithFallback(app, config.server.host, options.port);
    const tokens = await provisionDemo(app.services, backend, seed);

    const probes: Probe[] = [
      { who: 'alice', path: '/api/connections/s3-sales/objects?prefix=2024/', expectStatus: 200, expectText: 'q1.csv' },
      {
        who: 'alice',
        path: '/api/connections/s3-marketing/object?key=campaigns.csv',
        expectStatus: 200,
        expectText: 'spring-launch',
      },
      { who: 'bob', path: '/api/connections/s3-marketing/objects', expectStatus: 403, expectText: 'marketingRole' },
      { who: 'carol', path: '/api/connections/s3-sales/objects', expectStatus: 403, expectText: 'salesRole' },
    ];
    const tokenOf = (who: string) => tokens[who as keyof typeof tokens];
    out('');
    out(`rolegate is running at ${url} (S3+STS at ${backend.endpoint}, bucket "${seed.bucket}")`);
    out('');
    out('Demo API tokens (shown once):');
    out(`  export ADMIN=${tokens.admin}`);
    out(`  export ALICE=${tokens.alice}`);
    out(`  export BOB=${tokens.bob}`);
    out(`  export CAROL=${tokens.carol}`);
    out('');
    out('Try:');
    out('  # alice reads sales and marketing, each with her own role session');
    out(`  curl -s -H "Authorization: Bearer $ALICE" '${url}/api/connections/s3-sales/objects?prefix=2024/'`);
    out(`  curl -s -H "Authorization: Bearer $ALICE" '${url}/api/connections/s3-marketing/object?key=campaigns.csv'`);
    out('  # bob is denied on marketing: his admin property marketingRole is not set');
    out(`  curl -s -H "Authorization: Bearer $BOB" '${url}/api/connections/s3-marketing/objects'`);
    out('  # carol has no role properties at all');
    out(`  curl -s -H "Authorization: Bearer $CAROL" '${url}/api/connections/s3-sales/objects'`);
    out('');
    out(`API reference: ${url}/docs`);

    if (options.check) {
      let failures = 0;
      for (const probe of probes) {
        const res = await fetch(`${url}${probe.path}`, { headers: { authorization: `Bearer ${tokenOf(probe.who)}` } });
        const text = await res.text();
        const ok = res.status === probe.expectStatus && text.includes(probe.expectText);
        if (!ok) failures++;
        out(
          `${ok ? 'ok  ' : 'FAIL'} ${probe.who} GET ${probe.path} -> ${res.status} ${text.replace(/\s+/g, ' ').slice(0, 160)}`,
        );
      }
      out(failures === 0 ? 'demo check passed' : `demo check: ${failures} probe(s) did not behave as expected`);
      await cleanup();
      return failures === 0 ? 0 : 1;
    }
    out('Press Ctrl-C to stop (the local S3 server and all demo state are removed).');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await cleanup();
    return 0;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function listenWithFallback(
  app: Awaited<ReturnType<typeof createApp>>,
  host: string,
  port: number,
): Promise<string> {
  try {
    return await app.http.listen({ host, port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return app.http.listen({ host, port: await pickFreePort() });
  }
}
