import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTAINER_CREDENTIALS_PATH, envVariables } from '../../domain/credential-formats.js';
import { ApiError } from '../api-client.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';
import { DETAILS_NOT_READABLE, gatewayNote } from '../vend.js';
import { narrowingFrom, narrowingOptions } from './credentials.js';

export const EXEC_USAGE = `usage: rolegate exec --connection C [--prefix P] [--read-only] [--duration S] [--ttl S] -- CMD [ARGS...]
  Runs CMD with AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN pointing at rolegate,
  with a token that only yields your credentials for C; every AWS SDK refreshes through it by itself.
  The token is deleted when CMD exits (and expires after --ttl seconds, default 12 h, regardless).
`;

/** Variables that would make an SDK pick other credentials than the container endpoint, or leak ours. */
const SCRUBBED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_ENDPOINT_URL',
  // The child gets a per-process token, never the user's API token.
  'ROLEGATE_TOKEN',
];

/** The AWS config of the child: region and addressing style, and no profile that could outrank the endpoint. */
function awsConfigFor(region: string, forcePathStyle: boolean): string {
  return `[default]\nregion = ${region}\n${forcePathStyle ? 's3 =\n  addressing_style = path\n' : ''}`;
}

/** `rolegate exec`: run a command with refreshing credentials for one connection. */
export async function execCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { connection: { type: 'string' }, ttl: { type: 'string' }, ...narrowingOptions },
  });
  const connection = values.connection;
  if (connection === undefined) throw new UsageError('--connection is required');
  const [command, ...commandArgs] = positionals;
  if (command === undefined) throw new UsageError('the command to run is missing (after --)');
  const narrowing = narrowingFrom(values);
  const client = await ctx.client();

  const childEnv: NodeJS.ProcessEnv = { ...ctx.env };
  for (const name of SCRUBBED) delete childEnv[name];
  let tokenId: string | undefined;
  let target: { region: string; endpoint?: string | undefined; forcePathStyle: boolean };
  try {
    const issued = await client.createExecToken({
      connection,
      name: `exec ${basename(command)}`.slice(0, 200),
      ttlSeconds: wholeNumber('--ttl', values.ttl),
      ...narrowing,
    });
    tokenId = issued.id;
    target = issued;
    childEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${client.url}${CONTAINER_CREDENTIALS_PATH}`;
    childEnv.AWS_CONTAINER_AUTHORIZATION_TOKEN = issued.token;
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== DETAILS_NOT_READABLE) throw e;
    // Slow path: the gateway key is static, so plain variables do.
    const gateway = await ctx.gateway(client).gatewayCredentials(connection);
    ctx.stderr(`${gatewayNote(connection, gateway.endpoint)}\n`);
    delete childEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI;
    delete childEnv.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    Object.assign(childEnv, envVariables(gateway));
    target = gateway;
  }
  childEnv.AWS_REGION = target.region;
  childEnv.AWS_DEFAULT_REGION = target.region;
  if (target.endpoint !== undefined) childEnv.AWS_ENDPOINT_URL_S3 = target.endpoint;
  else delete childEnv.AWS_ENDPOINT_URL_S3;
  const dir = await mkdtemp(join(tmpdir(), 'rolegate-exec-'));
  await writeFile(join(dir, 'config'), awsConfigFor(target.region, target.forcePathStyle), { mode: 0o600 });
  await writeFile(join(dir, 'credentials'), '', { mode: 0o600 });
  childEnv.AWS_CONFIG_FILE = join(dir, 'config');
  childEnv.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');

  try {
    return await runChild(command, commandArgs, childEnv, ctx);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (tokenId !== undefined) {
      await client.deleteExecToken(tokenId).catch((e: unknown) => {
        const why = e instanceof Error ? e.message : String(e);
        ctx.stderr(`rolegate: could not delete the exec token ${tokenId} (it expires by itself): ${why}\n`);
      });
    }
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** Runs the child with our stdio, passes signals on, and resolves to its exit code (128+n for a signal). */
function runChild(command: string, args: string[], env: NodeJS.ProcessEnv, ctx: CliContext): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of SIGNALS) process.on(s, forward);
    const done = (code: number) => {
      for (const s of SIGNALS) process.off(s, forward);
      resolve(code);
    };
    child.once('error', (e) => {
      ctx.stderr(`rolegate exec: cannot run ${command}: ${e.message}\n`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1)));
  });
}
