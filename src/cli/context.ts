import { createApiClient, type RolegateClient } from './api-client.js';
import { loadClientConfig } from './client-config.js';
import { createGatewayFallback } from './gateway-fallback.js';
import type { GatewayFallback } from './vend.js';

/** What a command may touch: its streams, its environment, and (lazily) the API. Tests pass their own. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The API client for the configured URL and token; fails with how to log in when there are none. */
  client(): Promise<RolegateClient>;
  gateway(client: RolegateClient): GatewayFallback;
  /** How to run this CLI again (absolute node + script), for `credential_process` lines. */
  readonly selfCommand: readonly string[];
}

export function processContext(): CliContext {
  let client: Promise<RolegateClient> | undefined;
  return {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    client() {
      client ??= loadClientConfig(process.env).then((c) => createApiClient(c));
      return client;
    },
    gateway: (c) => createGatewayFallback(c, process.env),
    selfCommand: [process.execPath, ...(process.argv[1] === undefined ? [] : [process.argv[1]])],
  };
}

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses `--duration` and similar whole-number options. */
export function wholeNumber(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} must be a whole number of seconds`);
  return Number(value);
}
