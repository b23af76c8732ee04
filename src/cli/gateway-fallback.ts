import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { VendedCredentials } from '../domain/credential-formats.js';
import type { GatewayKeyResponse, IssuedGatewayKeyResponse } from '../modules/gateway-keys/gateway-keys.routes.js';
import { ApiError, type RolegateClient } from './api-client.js';
import { clientConfigPath } from './client-config.js';
import type { GatewayFallback } from './vend.js';

/** The name of the gateway key the CLI creates for itself on first use. */
export const CLI_GATEWAY_KEY_NAME = 'rolegate-cli';

const keyFileSchema = z.record(
  z.string(),
  z.record(z.string(), z.object({ accessKeyId: z.string(), secretAccessKey: z.string() })),
);
type KeyFile = z.infer<typeof keyFileSchema>;

/**
 * Where the CLI keeps its gateway keys: the API shows a key's secret only once, when it is created.
 * Same directory and mode as the login configuration; keyed by rolegate URL, then username.
 */
export function gatewayKeyFilePath(env: NodeJS.ProcessEnv): string {
  return join(dirname(clientConfigPath(env)), 'gateway-keys.json');
}

async function readKeyFile(path: string): Promise<KeyFile> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if (((await stat(path)).mode & 0o077) !== 0) throw new Error(`${path} is readable by other users; chmod 600 it`);
  const parsed = keyFileSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : {};
}

async function writeKeyFile(path: string, file: KeyFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/**
 * The gateway stand-in for connections whose details the caller may not read: the caller's own gateway key
 * (created on first use and kept in the CLI's config directory; replaced when it was revoked) and the
 * gateway endpoint rolegate reports (`ROLEGATE_GATEWAY_URL` wins, e.g. behind a proxy). The bucket is the
 * connection's name, as the gateway serves it.
 */
export function createGatewayFallback(client: RolegateClient, env: NodeJS.ProcessEnv = process.env): GatewayFallback {
  let key: Promise<{ accessKeyId: string; secretAccessKey: string }> | undefined;
  let where: Promise<{ endpoint: string; region: string }> | undefined;

  async function gateway(): Promise<{ endpoint: string; region: string }> {
    const info = (await client.fastPath()).gateway;
    const endpoint = env.ROLEGATE_GATEWAY_URL || info?.endpoint;
    if (endpoint === undefined) {
      throw new ApiError(
        503,
        'gateway.unavailable',
        'this rolegate runs no S3 gateway (or set ROLEGATE_GATEWAY_URL to where it is reachable)',
      );
    }
    return { endpoint: endpoint.replace(/\/+$/, ''), region: info?.region ?? 'us-east-1' };
  }

  async function ownKey(): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    const { username } = await client.me();
    const path = gatewayKeyFilePath(env);
    const file = await readKeyFile(path);
    const stored = file[client.url]?.[username];
    const seg = encodeURIComponent(username);
    if (stored !== undefined) {
      const live = await client.request<GatewayKeyResponse[]>('GET', `/api/users/${seg}/gateway-keys`);
      if (live.some((k) => k.accessKeyId === stored.accessKeyId)) return stored;
    }
    const issued = await client.request<IssuedGatewayKeyResponse>('POST', `/api/users/${seg}/gateway-keys`, {
      name: CLI_GATEWAY_KEY_NAME,
    });
    const fresh = { accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey };
    const latest = await readKeyFile(path);
    latest[client.url] = { ...latest[client.url], [username]: fresh };
    await writeKeyFile(path, latest);
    return fresh;
  }

  return {
    async gatewayCredentials(connection: string): Promise<VendedCredentials> {
      where ??= gateway();
      const { endpoint, region } = await where;
      key ??= ownKey();
      const { accessKeyId, secretAccessKey } = await key;
      return { accessKeyId, secretAccessKey, region, endpoint, forcePathStyle: true, bucket: connection, prefix: '' };
    },
  };
}
