import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { ConfigDiffResponse } from '../../modules/config-as-code/config.routes.js';
import type { Change } from '../../modules/config-as-code/config-diff.js';
import {
  type ConfigFile,
  formatError,
  resolveReferences,
  validateConfigFile,
} from '../../modules/config-as-code/declaration.js';
import { type CliContext, UsageError } from '../context.js';

export const APPLY_USAGE = `usage: rolegate apply -f FILE [--dry-run]
  declares groups, users (role, groups, properties), connections and mounts; prints the changes and applies
  them in one transaction (admins only). Property values and secrets are references only: env:NAME or
  file:/path, resolved on this machine. --dry-run prints the changes and applies nothing.
`;

export const EXPORT_USAGE = `usage: rolegate export [-o FILE]
  the current groups, users, connections and mounts in the format apply reads (admins only);
  property values and secrets are written as env: placeholders, never as values.
`;

const SIGN = { create: '+', update: '~', delete: '-' } as const;
const line = (c: Change) =>
  `${SIGN[c.action]} ${c.kind} ${c.kind === 'mount' ? `/mnt/${c.name}` : c.name}` +
  (c.fields === undefined ? '' : ` (${c.fields.join(', ')})`);

/** `rolegate apply -f rolegate.yaml [--dry-run]`. */
export async function applyCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean', default: false } },
  });
  if (values.file === undefined) throw new UsageError('-f FILE is required');
  const file = resolve(values.file);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    ctx.stderr(`rolegate apply: ${values.file}: ${(e as Error).message}\n`);
    return 1;
  }
  // Every error of the file, then every unresolvable reference, before anything is sent.
  const checked = validateConfigFile(raw ?? {});
  const resolved = checked.ok
    ? resolveReferences(checked.value, {
        env: ctx.env,
        readFile: (path) => readFileSync(resolve(dirname(file), path), 'utf8'),
      })
    : checked;
  if (!resolved.ok) {
    ctx.stderr(
      `rolegate apply: ${values.file}: ${resolved.errors.length} error(s), nothing applied:\n` +
        resolved.errors.map((e) => `  ${formatError(e)}\n`).join(''),
    );
    return 1;
  }
  const dryRun = values['dry-run'] ?? false;
  const client = await ctx.client();
  const diff = await client.request<ConfigDiffResponse>(
    'POST',
    dryRun ? '/api/config/plan' : '/api/config/apply',
    resolved.value,
  );
  ctx.stdout(diff.changes.map((c) => `${line(c)}\n`).join(''));
  const n = diff.changes.length;
  ctx.stdout(
    n === 0
      ? `no changes (${diff.unchanged} unchanged)\n`
      : `${n} change(s), ${diff.unchanged} unchanged${dryRun ? ' (dry run: nothing applied)' : ': applied'}\n`,
  );
  return 0;
}

/** `rolegate export [-o FILE]`. */
export async function exportCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { output: { type: 'string', short: 'o' } } });
  const client = await ctx.client();
  const state = await client.request<ConfigFile>('GET', '/api/config/export');
  const text = `# rolegate export: values and secrets are env: placeholders; set them before "rolegate apply".\n${stringifyYaml(state)}`;
  if (values.output === undefined) ctx.stdout(text);
  else writeFileSync(values.output, text, { mode: 0o600 });
  return 0;
}
