import { parseArgs } from 'node:util';
import type { GatewayKeyResponse, IssuedGatewayKeyResponse } from '../../modules/gateway-keys/gateway-keys.routes.js';
import { type CliContext, UsageError } from '../context.js';

export const GATEWAY_KEYS_USAGE = `usage: rolegate gateway-keys <create|list|revoke> [options]
  create --name N [--user U]     a key for the S3 gateway; the secret is printed once
  list [--user U]                keys of U (default: you)
  revoke ACCESS_KEY_ID [--user U]
                                 refused by the gateway from the next request on
`;

/** `rolegate gateway-keys …`: S3 gateway keys through the REST API. */
export async function gatewayKeysCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { user: { type: 'string' }, name: { type: 'string' } },
  });
  const client = await ctx.client();
  const user = encodeURIComponent(values.user ?? (await client.me()).username);
  if (sub === 'create') {
    if (values.name === undefined) throw new UsageError('--name is required');
    const key = await client.request<IssuedGatewayKeyResponse>('POST', `/api/users/${user}/gateway-keys`, {
      name: values.name,
    });
    ctx.stdout(
      `gateway key created (the secret is shown once):\n` +
        `  aws_access_key_id = ${key.accessKeyId}\n  aws_secret_access_key = ${key.secretAccessKey}\n`,
    );
    return 0;
  }
  if (sub === 'list') {
    const keys = await client.request<GatewayKeyResponse[]>('GET', `/api/users/${user}/gateway-keys`);
    ctx.stdout(
      keys.length === 0
        ? 'no gateway keys\n'
        : keys.map((k) => `${k.accessKeyId}  ${k.name}  ${k.createdAt}\n`).join(''),
    );
    return 0;
  }
  if (sub === 'revoke') {
    const id = positionals[0];
    if (id === undefined) throw new UsageError('the access key id to revoke is required');
    await client.request('DELETE', `/api/users/${user}/gateway-keys/${encodeURIComponent(id)}`);
    ctx.stdout(`revoked ${id}\n`);
    return 0;
  }
  throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand ${sub}`);
}
