import { parseArgs } from 'node:util';
import type { PresignResponse } from '../../modules/signing/signing.routes.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';

export const PRESIGN_USAGE = `usage: rolegate presign --connection C --key K [--put] [--expires SECONDS] [--json]
  A presigned URL for one object of C (K relative to the connection's path), signed with your role session:
  GET by default, PUT with --put. Valid --expires seconds (1–3600, default 300), never beyond the role session.
  Needs signingAllowedBy on the connection. Prints the URL (--json: the URL, method, expiry, bucket and key).
`;

/** `rolegate presign`: a time-limited URL for one object, without handing out credentials. */
export async function presignCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      connection: { type: 'string' },
      key: { type: 'string' },
      put: { type: 'boolean', default: false },
      expires: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.connection === undefined || values.key === undefined) {
    throw new UsageError('--connection and --key are required');
  }
  const expiresSeconds = wholeNumber('--expires', values.expires);
  const answer = await (await ctx.client()).request<PresignResponse>(
    'POST',
    `/api/connections/${encodeURIComponent(values.connection)}/presign`,
    {
      key: values.key,
      method: values.put ? 'PUT' : 'GET',
      ...(expiresSeconds === undefined ? {} : { expiresSeconds }),
    },
  );
  ctx.stdout(values.json ? `${JSON.stringify(answer, null, 2)}\n` : `${answer.url}\n`);
  return 0;
}
