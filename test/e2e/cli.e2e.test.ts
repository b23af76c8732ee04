import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickFreePort } from '../../src/demo/local-backend.js';
import { CLI_BIN, requireBuiltCli, runCli } from '../harness/cli.js';
import { registerFilesUnder, registerSecrets, registerText } from '../harness/secret-registry.js';

let dir: string;

beforeAll(async () => {
  requireBuiltCli();
  dir = await mkdtemp(join(tmpdir(), 'rolegate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `rolegate …` with this process's environment plus `env`; its stderr goes to the secret scan. */
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { ...process.env, ...env });

describe('rolegate CLI', () => {
  it('demo --check starts its own S3+STS, shows alice allowed and bob and carol denied, and cleans up', async () => {
    const res = await run(['demo', '--check', '--port', '0']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('demo check passed');
    expect(res.stdout).toMatch(/ok {3}bob GET \/api\/connections\/s3-marketing\/objects -> 403 .*marketingRole/);
    expect(res.stdout).toMatch(/ok {3}carol GET .* -> 403 .*salesRole/);
    expect(res.stdout).toContain('curl -s -H "Authorization: Bearer $ALICE"');
  }, 120_000);

  it('init creates the first administrator once, with a key file of mode 0600', async () => {
    const env = { ROLEGATE_DATA_DIR: join(dir, 'init') };
    const first = await run(['init', '--admin', 'root'], env);
    expect(first.code, first.stderr).toBe(0);
    const token = /rg_[A-Za-z0-9_-]{43}/.exec(first.stdout)?.[0];
    expect(token).toBeDefined();
    expect((await stat(join(dir, 'init', 'secret.key'))).mode & 0o777).toBe(0o600);
    // The token is stored hashed and the vault key only in its file: neither is in the store.
    registerSecrets([token ?? '', (await readFile(join(dir, 'init', 'secret.key'), 'utf8')).trim()]);
    await registerFilesUnder('cli-init-data-dir', join(dir, 'init'), ['secret.key']);
    const second = await run(['init'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('already exists');
  });

  it('serve reads a YAML config, answers, and exits cleanly on SIGTERM', async () => {
    const port = await pickFreePort();
    const config = join(dir, 'rolegate.yaml');
    await writeFile(config, `server:\n  port: ${port}\ndataDir: ${join(dir, 'serve')}\nlog:\n  level: warn\n`);
    const vaultKey = randomBytes(32).toString('hex');
    registerSecrets([vaultKey]);
    const child: ChildProcess = spawn(process.execPath, [CLI_BIN, 'serve', '--config', config], {
      env: { ...process.env, ROLEGATE_SECRET_KEY: vaultKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let health: Response | undefined;
    for (let i = 0; i < 100 && health === undefined; i++) {
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health?.status).toBe(200);
    const unauth = await fetch(`http://127.0.0.1:${port}/api/me`);
    expect(unauth.status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    registerText('cli-serve-output', output);
    await registerFilesUnder('cli-serve-data-dir', join(dir, 'serve'));
  });

  it('reports a bad configuration naming the key, and unknown commands with usage', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'server:\n  port: "eighty"\n');
    const bad = await run(['serve', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('server.port');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: rolegate');
  });
});
