import { describe, expect, it } from 'vitest';
import { SNIPPET_KINDS, snippet } from './snippets';
import type { FastPathEntry } from './types';

const sales: FastPathEntry = {
  name: 's3-sales',
  access: 'direct',
  bucket: 'datalake',
  path: 'sales/',
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
  readOnly: false,
};
const marketing: FastPathEntry = { ...sales, name: 's3-marketing', access: 'gateway', path: 'marketing/' };
const gateway = { endpoint: 'http://127.0.0.1:8631', region: 'us-east-1', accessKeyId: 'RGEXAMPLE' };

describe('snippets', () => {
  it('fast path: the rolegate CLI vends the role session, on the connection’s own bucket', () => {
    const aws = snippet('aws', sales, gateway);
    expect(aws).toContain('credential_process = rolegate credentials --connection s3-sales --format process');
    expect(aws).toContain('endpoint_url = http://127.0.0.1:7480');
    expect(aws).toContain('addressing_style = path');
    expect(aws).toContain('aws --profile s3-sales s3 ls s3://datalake/sales/');
    expect(snippet('boto3', sales)).toContain('Bucket="datalake", Prefix="sales/"');
    expect(snippet('spark', sales)).toContain('rolegate spark-conf --connection s3-sales');
    expect(snippet('exec', sales)).toContain('rolegate exec --connection s3-sales -- python job.py');
  });

  it('slow path: the gateway endpoint and key id, bucket = connection name, never a secret', () => {
    const aws = snippet('aws', marketing, gateway);
    expect(aws).toContain('aws_access_key_id = RGEXAMPLE');
    expect(aws).toContain('endpoint_url = http://127.0.0.1:8631');
    expect(aws).toContain('s3://s3-marketing/');
    expect(snippet('boto3', marketing, gateway)).toContain('endpoint_url="http://127.0.0.1:8631"');
    expect(snippet('spark', marketing, gateway)).toContain(
      'spark.hadoop.fs.s3a.bucket.s3-marketing.access.key=RGEXAMPLE',
    );
    expect(snippet('exec', marketing, gateway)).toContain('AWS_ENDPOINT_URL_S3=http://127.0.0.1:8631');
    expect(snippet('aws', marketing, { ...gateway, accessKeyId: undefined })).toContain('aws_access_key_id = RG…');
    for (const { kind } of SNIPPET_KINDS) expect(snippet(kind, marketing)).toContain('runs no S3 gateway');
  });
});
