import type { FastPathEntry } from './types';

export type SnippetKind = 'aws' | 'boto3' | 'spark' | 'exec';
export const SNIPPET_KINDS: ReadonlyArray<{ kind: SnippetKind; label: string }> = [
  { kind: 'aws', label: 'aws CLI profile' },
  { kind: 'boto3', label: 'boto3' },
  { kind: 'spark', label: 'Spark' },
  { kind: 'exec', label: 'rolegate exec' },
];

/** Where the slow path goes: the S3 gateway, and the gateway key to sign with (its id only, never its secret). */
export interface GatewayTarget {
  endpoint: string;
  region: string;
  accessKeyId?: string;
}

const py = (s: string) => JSON.stringify(s);

/**
 * How to use a connection from a tool. `direct` (fast path): the rolegate CLI vends the user's own role session
 * and refreshes it. Otherwise through the S3 gateway with a gateway key: bucket = connection name, keys relative
 * to the connection's path. Secrets never appear: the gateway key's secret is a placeholder.
 */
export function snippet(kind: SnippetKind, c: FastPathEntry, gateway?: GatewayTarget): string {
  return c.access === 'direct' ? fastSnippet(kind, c) : gatewaySnippet(kind, c.name, gateway);
}

function fastSnippet(kind: SnippetKind, c: FastPathEntry): string {
  const url = `s3://${c.bucket}/${c.path}`;
  switch (kind) {
    case 'aws':
      return [
        '# ~/.aws/config (or let `rolegate aws-config --write` write it for every connection)',
        `[profile ${c.name}]`,
        `credential_process = rolegate credentials --connection ${c.name} --format process`,
        `region = ${c.region}`,
        ...(c.endpoint ? [`endpoint_url = ${c.endpoint}`] : []),
        ...(c.forcePathStyle ? ['s3 =', '  addressing_style = path'] : []),
        '',
        `aws --profile ${c.name} s3 ls ${url}`,
      ].join('\n');
    case 'boto3':
      return [
        '# with the aws CLI profile: credentials refresh by themselves',
        'import boto3',
        '',
        `s3 = boto3.Session(profile_name=${py(c.name)}).client("s3")`,
        `for o in s3.list_objects_v2(Bucket=${py(c.bucket)}, Prefix=${py(c.path)}).get("Contents", []):`,
        '    print(o["Key"])',
      ].join('\n');
    case 'spark':
      return [
        `rolegate spark-conf --connection ${c.name} > ${c.name}.conf`,
        `spark-submit --properties-file ${c.name}.conf job.py   # spark.read.csv("s3a://${c.bucket}/${c.path}")`,
        '',
        '# jobs longer than the session: credentials refreshed through an exec token',
        `rolegate spark-conf --connection ${c.name} --refreshing > ${c.name}.conf`,
      ].join('\n');
    case 'exec':
      return [
        '# any AWS SDK in the command gets your role session, refreshed before it expires',
        `rolegate exec --connection ${c.name} -- python job.py`,
        `rolegate exec --connection ${c.name} -- aws s3 ls ${url}`,
      ].join('\n');
  }
}

function gatewaySnippet(kind: SnippetKind, name: string, gateway: GatewayTarget | undefined): string {
  if (gateway === undefined) return '# this rolegate runs no S3 gateway: use the REST API of the connection';
  const id = gateway.accessKeyId ?? 'RG…';
  const secret = `<the secret shown once when ${id} was created>`;
  const exportSecret = `export RG_GATEWAY_SECRET='…'   # the secret shown once when ${id} was created`;
  switch (kind) {
    case 'aws':
      return [
        '# ~/.aws/config: through rolegate’s S3 gateway, bucket = connection name',
        `[profile ${name}]`,
        `aws_access_key_id = ${id}`,
        `aws_secret_access_key = ${secret}`,
        `region = ${gateway.region}`,
        `endpoint_url = ${gateway.endpoint}`,
        's3 =',
        '  addressing_style = path',
        '',
        `aws --profile ${name} s3 ls s3://${name}/`,
      ].join('\n');
    case 'boto3':
      return [
        `# first, in the shell: ${exportSecret}`,
        'import os',
        'import boto3',
        'from botocore.config import Config',
        '',
        's3 = boto3.client(',
        '    "s3",',
        `    endpoint_url=${py(gateway.endpoint)},`,
        `    region_name=${py(gateway.region)},`,
        `    aws_access_key_id=${py(id)},`,
        '    aws_secret_access_key=os.environ["RG_GATEWAY_SECRET"],',
        '    config=Config(s3={"addressing_style": "path"}),',
        ')',
        `for o in s3.list_objects_v2(Bucket=${py(name)}).get("Contents", []):`,
        '    print(o["Key"])',
      ].join('\n');
    case 'spark': {
      const p = `spark.hadoop.fs.s3a.bucket.${name}`;
      return [
        `# ${name}.conf: S3A through the gateway (\`rolegate spark-conf --connection ${name}\` writes the same)`,
        `${p}.endpoint=${gateway.endpoint}`,
        `${p}.endpoint.region=${gateway.region}`,
        `${p}.path.style.access=true`,
        `${p}.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider`,
        `${p}.access.key=${id}`,
        `${p}.secret.key=${secret}`,
        '',
        `spark-submit --properties-file ${name}.conf job.py   # spark.read.csv("s3a://${name}/")`,
      ].join('\n');
    }
    case 'exec':
      return [
        '# rolegate exec uses the gateway by itself here, with a gateway key of its own',
        `rolegate exec --connection ${name} -- python job.py`,
        '',
        '# the same by hand',
        exportSecret,
        `AWS_ACCESS_KEY_ID=${id} AWS_SECRET_ACCESS_KEY="$RG_GATEWAY_SECRET" AWS_REGION=${gateway.region} \\`,
        `  AWS_ENDPOINT_URL_S3=${gateway.endpoint} aws s3 ls s3://${name}/`,
      ].join('\n');
  }
}
