import { parseArgs } from 'node:util';
import { createApiClient } from '../api-client.js';
import { saveClientConfig } from '../client-config.js';
import { type CliContext, UsageError } from '../context.js';

export const LOGIN_USAGE = `usage: rolegate login --url URL [--token TOKEN]
  Checks the token against rolegate and stores URL and token in ~/.config/rolegate/config.json (mode 0600).
  Without --token, ROLEGATE_TOKEN is used. ROLEGATE_URL and ROLEGATE_TOKEN always win over the file.
`;

/** `rolegate login`: remember where rolegate is and who we are there, after checking both work. */
export async function loginCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' }, token: { type: 'string' } } });
  const url = values.url;
  if (url === undefined) throw new UsageError('--url is required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--url must be an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--url must be http(s)');
  if (parsed.username !== '' || parsed.password !== '') throw new UsageError('--url must not contain credentials');
  const token = values.token ?? ctx.env.ROLEGATE_TOKEN;
  if (token === undefined || token === '') throw new UsageError('--token is required (or set ROLEGATE_TOKEN)');
  const base = url.replace(/\/+$/, '');
  const me = await createApiClient({ url: base, token }).me();
  const path = await saveClientConfig({ url: base, token }, ctx.env);
  ctx.stdout(`logged in to ${base} as ${me.username}; configuration saved in ${path}\n`);
  return 0;
}
