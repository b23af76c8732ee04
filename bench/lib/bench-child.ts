import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * Starts `bench/lib/<script>` in a process of its own and resolves with the one JSON line it prints once ready
 * (what the benchmark needs of it: URLs, tokens, keys). Its stderr goes to ours.
 */
export async function startBenchChild<T>(
  script: string,
  options: { args?: readonly string[]; env?: NodeJS.ProcessEnv; nodeFlags?: readonly string[] } = {},
): Promise<{ child: ChildProcess; facts: T }> {
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), join(import.meta.dirname, script), ...(options.args ?? [])],
    {
      env: { ...process.env, ...options.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const facts = await new Promise<T>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buffered.slice(0, nl)) as T);
    });
    child.once('exit', (code) => reject(new Error(`bench/lib/${script} exited with ${code}`)));
  });
  return { child, facts };
}

/** Sends SIGTERM and waits for the process to be gone. */
export async function stopBenchChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}
