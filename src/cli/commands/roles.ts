import { parseArgs } from 'node:util';
import type { EntitledRolesResponse } from '../../modules/federation/sessions.routes.js';
import { type CliContext, UsageError } from '../context.js';

export const ROLES_USAGE = `usage: rolegate roles
  Lists the roles you may assume, each with where it comes from (identity provider or admin property).
  In a session (ROLEGATE_TOKEN from "rolegate assume"), the current role is marked with "*".
`;

export const ASSUME_USAGE = `usage: rolegate assume ROLE [--name NAME]
  Starts a rolegate session whose role is ROLE (an entitled role's ARN or name, see "rolegate roles") and
  prints "export ROLEGATE_TOKEN=..." for your shell: eval "$(rolegate assume analyst)". Commands run with
  that token use ROLE for connections whose role ARN is \${sessionRole}.
`;

function sourceText(source: EntitledRolesResponse['roles'][number]['sources'][number]): string {
  return source.kind === 'idp' ? `identity provider ${source.provider}` : `admin property ${source.property}`;
}

/** The role's name: the part after `role/` and any path. */
function roleName(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1);
}

/** `rolegate roles`: the caller's entitled roles. */
export async function rolesCommand(args: string[], ctx: CliContext): Promise<number> {
  parseArgs({ args, options: {} });
  const { roles, session } = await (await ctx.client()).roles();
  if (roles.length === 0) {
    ctx.stdout('you are not entitled to any role\n');
    return 0;
  }
  for (const r of roles) {
    const mark = session?.roleArn === r.roleArn ? '*' : ' ';
    ctx.stdout(`${mark} ${r.roleArn}  (${r.sources.map(sourceText).join(', ')})\n`);
  }
  return 0;
}

/** `rolegate assume ROLE`: a new session with ROLE, as a shell line that exports its token. */
export async function assumeCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { name: { type: 'string' } }, allowPositionals: true });
  const wanted = positionals[0];
  if (wanted === undefined || positionals.length > 1) throw new UsageError('exactly one ROLE is required');
  const client = await ctx.client();
  const { roles } = await client.roles();
  const matches = roles.filter((r) => r.roleArn === wanted || roleName(r.roleArn) === wanted);
  const [match] = matches;
  if (match === undefined || matches.length > 1) {
    ctx.stderr(
      matches.length > 1
        ? `rolegate assume: "${wanted}" names several roles; give the full ARN\n`
        : `rolegate assume: you are not entitled to a role "${wanted}"; see "rolegate roles"\n`,
    );
    return 1;
  }
  const session = await client.createSession({ roleArn: match.roleArn, name: values.name ?? 'cli' });
  ctx.stderr(`session ${session.id} uses ${match.roleArn} until ${session.expiresAt}\n`);
  // The token goes to stdout only, for eval; stderr (often logged) never sees it.
  ctx.stdout(`export ROLEGATE_TOKEN=${session.token}\n`);
  return 0;
}
