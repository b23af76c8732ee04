import { describe, expect, it } from 'vitest';
import {
  AWS_CONFIG_BEGIN,
  AWS_CONFIG_END,
  awsConfigBlock,
  awsTimestamp,
  containerFormat,
  envFormat,
  icebergConfig,
  icebergLoadCredentials,
  mergeAwsConfig,
  processFormat,
  propertiesValue,
  S3A_CONTAINER_PROVIDER,
  S3A_SIMPLE_PROVIDER,
  S3A_TEMPORARY_PROVIDER,
  shellQuote,
  sparkBucketConf,
  ucFormat,
  type VendedCredentials,
} from './credential-formats.js';

const session: VendedCredentials = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'se/cret+key',
  sessionToken: 'tok=en',
  expiration: '2030-01-01T12:00:00.000Z',
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
  bucket: 'datalake',
  prefix: 'sales/',
};
const staticKey: VendedCredentials = {
  accessKeyId: 'GWKEY',
  secretAccessKey: 'gwsecret',
  region: 'us-east-1',
  endpoint: 'http://127.0.0.1:8631',
  forcePathStyle: true,
  bucket: 's3-marketing',
  prefix: '',
};
const EXPIRY_MS = Date.UTC(2030, 0, 1, 12);

describe('credential_process and container formats', () => {
  it('print Version 1 with the session token and an expiry without milliseconds', () => {
    expect(processFormat(session)).toEqual({
      Version: 1,
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'se/cret+key',
      SessionToken: 'tok=en',
      Expiration: '2030-01-01T12:00:00Z',
    });
    expect(awsTimestamp('2030-01-01T12:00:00.123Z')).toBe('2030-01-01T12:00:00Z');
  });

  it('leave out token and expiry for static keys, so SDKs do not ask again', () => {
    expect(processFormat(staticKey)).toEqual({ Version: 1, AccessKeyId: 'GWKEY', SecretAccessKey: 'gwsecret' });
  });

  it('answer the container endpoint with Token (not SessionToken)', () => {
    expect(containerFormat(session)).toEqual({
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'se/cret+key',
      Token: 'tok=en',
      Expiration: '2030-01-01T12:00:00Z',
    });
  });
});

describe('env format', () => {
  it('exports the standard variables, shell-quoted, with region and S3 endpoint', () => {
    const text = envFormat(session);
    expect(text).toContain('export AWS_ACCESS_KEY_ID=ASIAEXAMPLE\n');
    expect(text).toContain('export AWS_SECRET_ACCESS_KEY=se/cret+key\n');
    expect(text).toContain('export AWS_SESSION_TOKEN=tok=en\n');
    expect(text).toContain('export AWS_REGION=eu-west-1\n');
    expect(text).toContain('export AWS_DEFAULT_REGION=eu-west-1\n');
    expect(text).toContain('export AWS_ENDPOINT_URL_S3=http://127.0.0.1:7480\n');
    expect(text).not.toContain('AWS_SESSION_TOKEN=undefined');
  });

  it('quotes what the shell would otherwise interpret', () => {
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(shellQuote('plain/+=')).toBe('plain/+=');
  });
});

describe('iceberg and unity catalog formats', () => {
  it('builds the Iceberg config map with expiry in ms and the refresh endpoint', () => {
    expect(icebergConfig(session, 'https://rg/api/connections/s3-sales/credentials/iceberg')).toEqual({
      's3.access-key-id': 'ASIAEXAMPLE',
      's3.secret-access-key': 'se/cret+key',
      's3.session-token': 'tok=en',
      's3.session-token-expires-at-ms': String(EXPIRY_MS),
      'client.region': 'eu-west-1',
      's3.endpoint': 'http://127.0.0.1:7480',
      's3.path-style-access': 'true',
      'client.refresh-credentials-endpoint': 'https://rg/api/connections/s3-sales/credentials/iceberg',
    });
  });

  it('has no refresh endpoint for static keys', () => {
    expect(icebergConfig(staticKey, 'https://rg/x')).not.toHaveProperty('client.refresh-credentials-endpoint');
  });

  it('answers a refresh as a LoadCredentialsResponse for the scope location', () => {
    const r = icebergLoadCredentials(session);
    expect(r['storage-credentials'][0]?.prefix).toBe('s3://datalake/sales/');
  });

  it('builds a Unity Catalog temporary-credentials body', () => {
    expect(ucFormat(session)).toEqual({
      aws_temp_credentials: { access_key_id: 'ASIAEXAMPLE', secret_access_key: 'se/cret+key', session_token: 'tok=en' },
      expiration_time: EXPIRY_MS,
      url: 's3://datalake/sales/',
    });
  });
});

describe('spark S3A per-bucket settings', () => {
  it("uses Hadoop's per-bucket key names and the temporary-credentials provider for sessions", () => {
    expect(Object.fromEntries(sparkBucketConf({ kind: 'static', credentials: session }))).toEqual({
      'spark.hadoop.fs.s3a.bucket.datalake.endpoint': 'http://127.0.0.1:7480',
      'spark.hadoop.fs.s3a.bucket.datalake.endpoint.region': 'eu-west-1',
      'spark.hadoop.fs.s3a.bucket.datalake.path.style.access': 'true',
      'spark.hadoop.fs.s3a.bucket.datalake.aws.credentials.provider': S3A_TEMPORARY_PROVIDER,
      'spark.hadoop.fs.s3a.bucket.datalake.access.key': 'ASIAEXAMPLE',
      'spark.hadoop.fs.s3a.bucket.datalake.secret.key': 'se/cret+key',
      'spark.hadoop.fs.s3a.bucket.datalake.session.token': 'tok=en',
    });
    expect(S3A_TEMPORARY_PROVIDER).toBe('org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider');
  });

  it('uses the simple provider for static keys and the container provider when refreshing', () => {
    const simple = Object.fromEntries(sparkBucketConf({ kind: 'static', credentials: staticKey }));
    expect(simple['spark.hadoop.fs.s3a.bucket.s3-marketing.aws.credentials.provider']).toBe(S3A_SIMPLE_PROVIDER);
    expect(simple).not.toHaveProperty('spark.hadoop.fs.s3a.bucket.s3-marketing.session.token');
    const refreshing = Object.fromEntries(
      sparkBucketConf({ kind: 'container', bucket: 'datalake', region: 'us-east-1', forcePathStyle: false }),
    );
    expect(refreshing['spark.hadoop.fs.s3a.bucket.datalake.aws.credentials.provider']).toBe(S3A_CONTAINER_PROVIDER);
    expect(refreshing).not.toHaveProperty('spark.hadoop.fs.s3a.bucket.datalake.access.key');
  });

  it('escapes properties-file values', () => {
    expect(propertiesValue('a\\b')).toBe('a\\\\b');
    expect(propertiesValue(' lead')).toBe('\\ lead');
  });
});

describe('aws config profiles', () => {
  const block = awsConfigBlock([
    {
      name: 's3-sales',
      credentialProcess: '/usr/bin/node /opt/rg/main.js credentials --connection s3-sales --format process',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:7480',
      forcePathStyle: true,
    },
  ]);

  it('writes a credential_process profile with region, endpoint and path style', () => {
    expect(block).toContain('[profile s3-sales]\n');
    expect(block).toContain('credential_process = /usr/bin/node /opt/rg/main.js credentials --connection s3-sales');
    expect(block).toContain('endpoint_url = http://127.0.0.1:7480\n');
    expect(block).toContain('s3 =\n  addressing_style = path\n');
    expect(block.startsWith(AWS_CONFIG_BEGIN)).toBe(true);
    expect(block.trimEnd().endsWith(AWS_CONFIG_END)).toBe(true);
  });

  it('replaces only its own block and keeps the rest of the file', () => {
    const mine = '[default]\nregion = eu-west-1\n';
    const first = mergeAwsConfig(mine, block);
    expect(first.startsWith(mine)).toBe(true);
    const again = mergeAwsConfig(`${first}[profile other]\nregion = x\n`, awsConfigBlock([]));
    expect(again).toContain('[default]\nregion = eu-west-1\n');
    expect(again).toContain('[profile other]\nregion = x\n');
    expect(again).not.toContain('s3-sales');
    expect(mergeAwsConfig('', block)).toBe(block);
  });
});
