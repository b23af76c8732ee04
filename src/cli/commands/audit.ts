import { parseArgs } from 'node:util';
import type { AuditEventResponse } from '../../modules/audit/audit.routes.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';

export const AUDIT_USAGE = `usage: rolegate audit <verify|unfinished|export|search> [options]
  verify                                   check the hash chain; exit 1 and name the first broken event
  unfinished [--since T] [--older-than S] [--json]
                                           changes recorded as requested whose end never was, at least
                                           S seconds old (default 60; admins); exit 1 when there are any
  export [--since T] [--until T] [--format jsonl|csv]
                                           every event in the range, in chain order (admins)
  search [--user U] [--connection C] [--action A] [--outcome requested|allowed|denied|error]
         [--session-name S] [--key-prefix P] [--since T] [--until T] [--limit N] [--json]
                                           newest first; users see their own events only
`;

const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, v);
  const text = s.toString();
  return text === '' ? '' : `?${text}`;
};

function line(e: AuditEventResponse): string {
  const where = [e.connection, e.key].filter((x) => x !== undefined).join(':');
  const why = e.reasonCode === undefined ? '' : ` (${e.reasonCode})`;
  const session = e.sessionName === undefined ? '' : ` session=${e.sessionName}`;
  return `${e.time} #${e.seq} ${e.actor ?? '-'} ${e.action} ${where} ${e.outcome}${why}${session}`;
}

/** `rolegate audit …`: verify the chain, export and search events through the REST API. */
export async function auditCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const client = await ctx.client();
  if (sub === 'verify') {
    const v = await client.request<{ ok: boolean; checked: number; seq?: number; reason?: string }>(
      'GET',
      '/api/audit/verify',
    );
    if (v.ok) {
      ctx.stdout(`audit chain intact: ${v.checked} event(s) verified\n`);
      return 0;
    }
    ctx.stdout(`audit chain BROKEN at event #${v.seq}: ${v.reason} (${v.checked} verified before it)\n`);
    return 1;
  }
  if (sub === 'unfinished') {
    const { values } = parseArgs({
      args: rest,
      options: {
        since: { type: 'string' },
        'older-than': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const olderThan = wholeNumber('--older-than', values['older-than']);
    const { events } = await client.request<{ events: AuditEventResponse[] }>(
      'GET',
      `/api/audit/unfinished${q({ since: values.since, olderThanSeconds: olderThan === undefined ? undefined : String(olderThan) })}`,
    );
    if (values.json) ctx.stdout(`${JSON.stringify(events, null, 2)}\n`);
    else if (events.length === 0) ctx.stdout('no unfinished changes\n');
    else ctx.stdout(events.map((e) => `${line(e)} request=${e.requestId ?? '-'}\n`).join(''));
    return events.length === 0 ? 0 : 1;
  }
  if (sub === 'export') {
    const { values } = parseArgs({
      args: rest,
      options: { since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string', default: 'jsonl' } },
    });
    if (values.format !== 'jsonl' && values.format !== 'csv') throw new UsageError('--format must be jsonl or csv');
    ctx.stdout(
      await client.requestText(
        'GET',
        `/api/audit/export${q({ since: values.since, until: values.until, format: values.format })}`,
      ),
    );
    return 0;
  }
  if (sub === 'search') {
    const { values } = parseArgs({
      args: rest,
      options: {
        user: { type: 'string' },
        connection: { type: 'string' },
        action: { type: 'string' },
        outcome: { type: 'string' },
        'session-name': { type: 'string' },
        'key-prefix': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const limit = wholeNumber('--limit', values.limit);
    const { events } = await client.request<{ events: AuditEventResponse[] }>(
      'GET',
      `/api/audit${q({
        user: values.user,
        connection: values.connection,
        action: values.action,
        outcome: values.outcome,
        sessionName: values['session-name'],
        keyPrefix: values['key-prefix'],
        since: values.since,
        until: values.until,
        limit: limit === undefined ? undefined : String(limit),
      })}`,
    );
    ctx.stdout(values.json ? `${JSON.stringify(events, null, 2)}\n` : events.map((e) => `${line(e)}\n`).join(''));
    return 0;
  }
  throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand ${sub}`);
}
