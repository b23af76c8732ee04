import { parseArgs } from 'node:util';
import { type CliContext, UsageError } from '../context.js';

export const REVOKE_USAGE = `usage: rolegate revoke --connection C [--user U]
  Makes the backend refuse the role sessions rolegate issued to U (default: you) on C, at once; new
  credentials get a new session name and keep working. Admins revoke anyone's, users their own.
`;

/** `rolegate revoke`: revoke issued role sessions before they expire. */
export async function revokeCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { connection: { type: 'string' }, user: { type: 'string' } } });
  if (values.connection === undefined) throw new UsageError('--connection is required');
  const client = await ctx.client();
  const username = values.user ?? (await client.me()).username;
  const result = await client.revoke(values.connection, username);
  ctx.stdout(
    `revoked ${result.revokedSessions.length} role session name(s) of ${result.username} on ${result.connection}` +
      `${result.revokedSessions.map((s) => `\n  ${s.sessionName} (${s.roleArn})`).join('')}\n`,
  );
  return 0;
}
