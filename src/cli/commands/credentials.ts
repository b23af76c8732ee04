import { parseArgs } from 'node:util';
import {
  envFormat,
  icebergConfig,
  processFormat,
  ucFormat,
  type VendedCredentials,
} from '../../domain/credential-formats.js';
import type { NarrowingRequest } from '../../domain/narrowing.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';
import { vend } from '../vend.js';

export const FORMATS = ['process', 'env', 'json', 'iceberg', 'uc'] as const;
export type CredentialsFormat = (typeof FORMATS)[number];

export const CREDENTIALS_USAGE = `usage: rolegate credentials --connection C [--format process|env|json|iceberg|uc]
                            [--prefix P] [--read-only] [--duration SECONDS]

  process   AWS credential_process JSON (Version 1); nothing on stderr on success
  env       export AWS_ACCESS_KEY_ID=… lines, for eval "$(rolegate credentials … --format env)"
  json      plain JSON (default)
  iceberg   an Iceberg REST-style config map (s3.access-key-id, …, client.refresh-credentials-endpoint)
  uc        a Unity Catalog-style body (aws_temp_credentials, expiration_time)
  --prefix P      only the folder P under the connection's path
  --read-only     no writes, even on a writable connection
  --duration S    a shorter session than the connection's
`;

/** The options every credentials-vending command shares. */
export const narrowingOptions = {
  prefix: { type: 'string' },
  'read-only': { type: 'boolean', default: false },
  duration: { type: 'string' },
} as const;

export function narrowingFrom(values: {
  prefix?: string | undefined;
  'read-only'?: boolean | undefined;
  duration?: string | undefined;
}): NarrowingRequest {
  return {
    prefix: values.prefix,
    readOnly: values['read-only'] === true ? true : undefined,
    durationSeconds: wholeNumber('--duration', values.duration),
  };
}

/** The refresh endpoint an Iceberg client calls again before the session expires (same narrowing). */
export function icebergRefreshUrl(base: string, connection: string, n: NarrowingRequest): string {
  const q = new URLSearchParams();
  if (n.prefix !== undefined) q.set('prefix', n.prefix);
  if (n.readOnly) q.set('readOnly', 'true');
  if (n.durationSeconds !== undefined) q.set('durationSeconds', String(n.durationSeconds));
  const query = q.toString();
  return `${base}/api/connections/${encodeURIComponent(connection)}/credentials/iceberg${query ? `?${query}` : ''}`;
}

/** One connection's credentials in one format, as text ending in a newline. */
export function renderCredentials(
  format: CredentialsFormat,
  c: VendedCredentials,
  extra: { sessionName?: string | undefined; via: 'direct' | 'gateway'; refreshEndpoint?: string | undefined },
): string {
  switch (format) {
    case 'process':
      return `${JSON.stringify(processFormat(c))}\n`;
    case 'env':
      return envFormat(c);
    case 'json':
      return `${JSON.stringify({ ...c, roleSessionName: extra.sessionName, access: extra.via }, null, 2)}\n`;
    case 'iceberg':
      return `${JSON.stringify({ config: icebergConfig(c, extra.refreshEndpoint) }, null, 2)}\n`;
    case 'uc':
      return `${JSON.stringify(ucFormat(c), null, 2)}\n`;
  }
}

/** `rolegate credentials`: one connection's credentials, in the format an engine consumes. */
export async function credentialsCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { connection: { type: 'string' }, format: { type: 'string', default: 'json' }, ...narrowingOptions },
  });
  const connection = values.connection;
  if (connection === undefined) throw new UsageError('--connection is required');
  const format = values.format as CredentialsFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const narrowing = narrowingFrom(values);
  const client = await ctx.client();
  const vended = await vend(client, ctx.gateway(client), connection, narrowing);
  // credential_process callers show stderr to users as an error: stay silent there.
  if (vended.note !== undefined && format !== 'process') ctx.stderr(`${vended.note}\n`);
  ctx.stdout(
    renderCredentials(format, vended.credentials, {
      sessionName: vended.sessionName,
      via: vended.via,
      refreshEndpoint: vended.via === 'direct' ? icebergRefreshUrl(client.url, connection, narrowing) : undefined,
    }),
  );
  return 0;
}
