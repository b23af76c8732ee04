import { parseArgs } from 'node:util';
import type { Explanation } from '../../domain/explain.js';
import { type CliContext, UsageError } from '../context.js';

export const EXPLAIN_USAGE = `usage: rolegate explain --user U --connection C [--key K] [--write] [--json]
  The whole access decision without touching S3 or STS: usable by, admin properties used (names only),
  the resolved role and session name, the session policy, fast or slow path, and the first rule that denies.
  Admins explain anyone; users themselves. Exit status 1 when the decision is a denial.
`;

/** `rolegate explain`: "can user U do X on connection C?" */
export async function explainCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      user: { type: 'string' },
      connection: { type: 'string' },
      key: { type: 'string' },
      write: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.user === undefined || values.connection === undefined)
    throw new UsageError('--user and --connection are required');
  const params = new URLSearchParams({ user: values.user, connection: values.connection, write: String(values.write) });
  if (values.key !== undefined) params.set('key', values.key);
  const e = await (await ctx.client()).request<Explanation>('GET', `/api/explain?${params}`);
  if (values.json) {
    ctx.stdout(`${JSON.stringify(e, null, 2)}\n`);
  } else {
    const lines = [
      `${e.user} on ${e.connection}${e.key === undefined ? '' : ` key ${e.key}`}: ${e.allowed ? `ALLOWED (${e.path} path)` : 'DENIED'}`,
      ...e.steps.map((s) => `  [${s.outcome}] ${s.rule}: ${s.detail}`),
      ...(e.propertiesUsed.length > 0 ? [`  admin properties used: ${e.propertiesUsed.join(', ')}`] : []),
      ...(e.roleArn ? [`  role: ${e.roleArn}`, `  session name: ${e.sessionName}`] : []),
      ...(e.denial ? [`  denied by: ${e.denial.code} — ${e.denial.reason}`] : []),
      ...(e.sessionPolicy ? [`  session policy: ${JSON.stringify(e.sessionPolicy)}`] : []),
    ];
    ctx.stdout(`${lines.join('\n')}\n`);
  }
  return e.allowed ? 0 : 1;
}
