import { type ChildProcess, spawn } from 'node:child_process';
import { CLI_BIN } from './cli.js';
import { registerText } from './secret-registry.js';

/** `rolegate serve` as a child process that a test can SIGKILL, with everything it printed kept. */
export interface ServeProcess {
  readonly proc: ChildProcess;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL (no drain, no shutdown hooks), resolved once the process is gone. */
  kill9(): Promise<void>;
}

/**
 * Starts `rolegate serve --config <config>` and resolves once `<api>/healthz` answers 200.
 * @throws when it exits or does not come up within 10 s (its output in the message).
 */
export async function startServeProcess(config: string, env: NodeJS.ProcessEnv, api: string): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI_BIN, 'serve', '--config', config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const keep = (c: Buffer) => out.push(c.toString('utf8'));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const serving: ServeProcess = {
    proc,
    output: () => out.join(''),
    async kill9() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGKILL');
      await gone;
    },
  };
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${api}/healthz`).catch(() => undefined);
    if (res?.status === 200) return serving;
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await serving.kill9();
  throw new Error(`rolegate serve did not come up (exit ${proc.exitCode}): ${serving.output().slice(-2000)}`);
}

/** One JSON call to a rolegate's API with a bearer token; an error body is registered for the secret scan. */
export async function callApi(
  api: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) registerText('serve-process-error-body', text);
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}
