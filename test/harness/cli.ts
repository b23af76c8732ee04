import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { promisify } from 'node:util';
import { registerText } from './secret-registry.js';

/** The built CLI (`npm test` builds before vitest runs). */
export const CLI_BIN = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export function requireBuiltCli(): void {
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: run "npm run build" first (npm test does)`);
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program to completion, capturing its output. Its stderr goes to the whole-suite secret scan; its stdout
 * may hand a secret out on purpose (a `credential_process` answer).
 */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      registerText(`stderr-${basename(command)}`, stderr);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Runs `rolegate …` (the built CLI) with exactly `env`. Its stderr (logs, errors) goes to the whole-suite secret
 * scan; its stdout may hand a secret out on purpose (`init`'s token, `credential_process` JSON).
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult> {
  return run(process.execPath, [CLI_BIN, ...args], env, timeoutMs);
}

/**
 * This process's environment without AWS or rolegate settings (the test rolegate puts master credentials
 * in it), plus `extra`: what a user's shell would look like.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AWS_') && !k.startsWith('ROLEGATE_') && !k.startsWith('S3STS_')) env[k] = v;
  }
  return { ...env, ...extra };
}

export interface RealClients {
  readonly aws: string;
  readonly python: string;
  /** Whether this aws CLI reads `endpoint_url` from a profile (aws-cli ≥ 1.29 / ≥ 2.13). */
  readonly awsReadsEndpointUrl: boolean;
}

/** An AWS CLI and a Python with boto3, installed from Debian by scripts/fastpath-clients.sh when missing. */
export async function realClients(): Promise<RealClients> {
  const script = resolve(import.meta.dirname, '../../scripts/fastpath-clients.sh');
  const { stdout } = await promisify(execFile)('bash', [script], { timeout: 300_000 });
  const get = (name: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`${name}=`));
    if (line === undefined) throw new Error(`fastpath-clients.sh did not report ${name}`);
    return line.slice(name.length + 1);
  };
  const aws = get('AWS');
  const version = (await promisify(execFile)(aws, ['--version'])).stdout;
  const m = /aws-cli\/(\d+)\.(\d+)/.exec(version);
  const major = Number(m?.[1] ?? 0);
  const minor = Number(m?.[2] ?? 0);
  return {
    aws,
    python: get('PYTHON'),
    awsReadsEndpointUrl: (major === 1 && minor >= 29) || (major === 2 && minor >= 13),
  };
}
