import { parseArgs } from 'node:util';
import {
  awsTimestamp,
  CONTAINER_CREDENTIALS_PATH,
  propertiesValue,
  type SparkBucketSource,
  sparkBucketConf,
} from '../../domain/credential-formats.js';
import { ApiError } from '../api-client.js';
import { type CliContext, UsageError, wholeNumber } from '../context.js';
import { DETAILS_NOT_READABLE, gatewayNote, vend } from '../vend.js';
import { narrowingFrom, narrowingOptions } from './credentials.js';

export const SPARK_CONF_USAGE = `usage: rolegate spark-conf --connection C [--connection D ...] [--refreshing [--ttl S]]
                           [--prefix P] [--read-only] [--duration S]
  Prints spark.hadoop.fs.s3a.bucket.<bucket>.* settings (Java properties, for spark-submit --properties-file),
  so one job reads each connection's bucket with that connection's role session.
  --refreshing: instead of keys that expire, point S3A's container-credentials provider at rolegate with an
  exec token (one connection: the provider reads one URL per JVM). The token expires after --ttl (default 12 h).
`;

/** `rolegate spark-conf`: per-bucket S3A settings for one or more connections. */
export async function sparkConfCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      connection: { type: 'string', multiple: true },
      refreshing: { type: 'boolean', default: false },
      ttl: { type: 'string' },
      ...narrowingOptions,
    },
  });
  const connections = [...new Set(values.connection ?? [])];
  if (connections.length === 0) throw new UsageError('--connection is required');
  const narrowing = narrowingFrom(values);
  const client = await ctx.client();
  const lines: string[] = [];
  const sources: Array<{ connection: string; source: SparkBucketSource }> = [];

  if (values.refreshing) {
    if (connections.length > 1) {
      throw new UsageError(
        '--refreshing serves one connection: the container-credentials provider reads one URL and token per ' +
          'JVM. Use a job per connection, or the non-refreshing settings for several.',
      );
    }
    const connection = connections[0] as string;
    try {
      const issued = await client.createExecToken({
        connection,
        name: 'spark-conf',
        ttlSeconds: wholeNumber('--ttl', values.ttl),
        ...narrowing,
      });
      const url = `${client.url}${CONTAINER_CREDENTIALS_PATH}`;
      lines.push(
        `# rolegate spark-conf --refreshing: connection ${connection}; exec token ${issued.id} valid until ${awsTimestamp(issued.expiresAt)}`,
        '# Revoke it early with: DELETE /api/exec-tokens/<id>. The driver in client mode reads its own',
        '# environment: export AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN before spark-submit.',
        '# Over plain http the AWS SDKs accept only a loopback URL: give executors on other hosts https.',
      );
      for (const prefix of ['spark.executorEnv', 'spark.yarn.appMasterEnv', 'spark.kubernetes.driverEnv']) {
        lines.push(`${prefix}.AWS_CONTAINER_CREDENTIALS_FULL_URI=${propertiesValue(url)}`);
        lines.push(`${prefix}.AWS_CONTAINER_AUTHORIZATION_TOKEN=${propertiesValue(issued.token)}`);
      }
      sources.push({ connection, source: { kind: 'container', ...issued } });
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== DETAILS_NOT_READABLE) throw e;
      const gateway = await ctx.gateway(client).gatewayCredentials(connection);
      ctx.stderr(`${gatewayNote(connection, gateway.endpoint)}\n`);
      sources.push({ connection, source: { kind: 'static', credentials: gateway } });
    }
  } else {
    for (const connection of connections) {
      const vended = await vend(client, ctx.gateway(client), connection, narrowing);
      if (vended.note !== undefined) ctx.stderr(`${vended.note}\n`);
      const c = vended.credentials;
      lines.push(
        `# connection ${connection}: s3a://${c.bucket}/${c.prefix}` +
          (c.expiration === undefined ? '' : `, session expires ${awsTimestamp(c.expiration)}`),
      );
      sources.push({ connection, source: { kind: 'static', credentials: c } });
    }
  }

  const bucketOwner = new Map<string, string>();
  for (const { connection, source } of sources) {
    const bucket = source.kind === 'static' ? source.credentials.bucket : source.bucket;
    const other = bucketOwner.get(bucket);
    if (other !== undefined) {
      throw new UsageError(
        `connections ${other} and ${connection} are both on bucket ${bucket}: S3A settings are per bucket, ` +
          'so one job cannot use two role sessions on one bucket',
      );
    }
    bucketOwner.set(bucket, connection);
    for (const [key, value] of sparkBucketConf(source)) lines.push(`${key}=${propertiesValue(value)}`);
  }
  ctx.stdout(`${lines.join('\n')}\n`);
  return 0;
}
