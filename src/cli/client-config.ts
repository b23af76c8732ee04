import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/** Where the CLI finds rolegate and who it is there. */
export interface ClientConfig {
  readonly url: string;
  readonly token: string;
}

const fileSchema = z.object({ url: z.string().optional(), token: z.string().optional() });

/** `$XDG_CONFIG_HOME/rolegate/config.json`, by default `~/.config/rolegate/config.json`. */
export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'rolegate', 'config.json');
}

/** Thrown when the CLI does not know where rolegate is or has no token; the message says how to fix it. */
export class ClientConfigError extends Error {
  override readonly name = 'ClientConfigError';
}

/**
 * The URL and token to use: `ROLEGATE_URL` / `ROLEGATE_TOKEN` win over the file written by `rolegate login`.
 * The file is refused when group or others may read it (it holds a token).
 */
export async function loadClientConfig(env: NodeJS.ProcessEnv = process.env): Promise<ClientConfig> {
  const path = clientConfigPath(env);
  let file: z.infer<typeof fileSchema> = {};
  let raw: string | undefined;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (raw !== undefined) {
    if (((await stat(path)).mode & 0o077) !== 0) {
      throw new ClientConfigError(`${path} is readable by other users; run: chmod 600 ${path}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ClientConfigError(`${path} is not valid JSON; run rolegate login again`);
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) throw new ClientConfigError(`${path} is not a rolegate CLI configuration`);
    file = result.data;
  }
  const url = env.ROLEGATE_URL || file.url;
  const token = env.ROLEGATE_TOKEN || file.token;
  if (url === undefined || url === '') {
    throw new ClientConfigError('no rolegate URL: run "rolegate login --url URL --token TOKEN" or set ROLEGATE_URL');
  }
  if (token === undefined || token === '') {
    throw new ClientConfigError('no API token: run "rolegate login --url URL --token TOKEN" or set ROLEGATE_TOKEN');
  }
  return { url: url.replace(/\/+$/, ''), token };
}

/** Writes the configuration with mode 0600 (directory 0700), atomically. */
export async function saveClientConfig(config: ClientConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const path = clientConfigPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ url: config.url, token: config.token }, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}
