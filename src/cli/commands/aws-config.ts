import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AwsProfile, awsConfigBlock, mergeAwsConfig } from '../../domain/credential-formats.js';
import { ApiError } from '../api-client.js';
import { type CliContext, UsageError } from '../context.js';
import { type GatewayFallback, gatewayNote } from '../vend.js';

export const AWS_CONFIG_USAGE = `usage: rolegate aws-config [--write] [--file PATH] [--profile-prefix P]
  One ~/.aws/config profile per connection you may use, named after it (e.g. "aws --profile s3-sales"),
  getting credentials from "rolegate credentials --format process" and refreshing by itself.
  Prints the profiles; --write replaces rolegate's block in the file (AWS_CONFIG_FILE or ~/.aws/config).
`;

/** Quotes one word for the shell-like splitting botocore and the AWS SDKs apply to credential_process. */
export function processWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export function awsConfigFilePath(env: NodeJS.ProcessEnv): string {
  return env.AWS_CONFIG_FILE || join(env.HOME || homedir(), '.aws', 'config');
}

/** `rolegate aws-config`: AWS CLI / SDK profiles backed by credential_process. */
export async function awsConfigCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      write: { type: 'boolean', default: false },
      file: { type: 'string' },
      'profile-prefix': { type: 'string', default: '' },
    },
  });
  const prefix = values['profile-prefix'] ?? '';
  if (!/^[A-Za-z0-9_.-]*$/.test(prefix)) throw new UsageError('--profile-prefix: letters, digits and _.- only');
  const client = await ctx.client();
  const entries = (await client.fastPath()).connections;
  const self = ctx.selfCommand.map(processWord).join(' ');
  const profiles: AwsProfile[] = [];
  for (const entry of entries) {
    const credentialProcess = `${self} credentials --connection ${entry.name} --format process`;
    if (entry.access === 'direct') {
      profiles.push({
        name: `${prefix}${entry.name}`,
        credentialProcess,
        region: entry.region,
        endpoint: entry.endpoint,
        forcePathStyle: entry.forcePathStyle,
      });
      continue;
    }
    // The same credential_process then hands out the gateway key, so the profile must point at the gateway.
    let gateway: Awaited<ReturnType<GatewayFallback['gatewayCredentials']>>;
    try {
      gateway = await ctx.gateway(client).gatewayCredentials(entry.name);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ctx.stderr(`rolegate: no profile for connection "${entry.name}": ${e.message} [${e.code}]\n`);
      continue;
    }
    ctx.stderr(`${gatewayNote(entry.name, gateway.endpoint)}\n`);
    profiles.push({
      name: `${prefix}${entry.name}`,
      credentialProcess,
      region: gateway.region,
      endpoint: gateway.endpoint,
      forcePathStyle: gateway.forcePathStyle,
    });
  }
  const block = awsConfigBlock(profiles);
  if (!values.write) {
    ctx.stdout(block);
    return 0;
  }
  const path = values.file ?? awsConfigFilePath(ctx.env);
  let existing = '';
  try {
    existing = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, mergeAwsConfig(existing, block), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  ctx.stdout(`wrote ${profiles.length} profile(s) to ${path}: ${profiles.map((p) => p.name).join(', ')}\n`);
  return 0;
}
