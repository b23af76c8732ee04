/** boto3 (Debian's python3-boto3, /usr/bin/python3) through the S3 gateway: transfers, pagination, denials. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, ensureS3Clients, type GatewayRig, gatewayLeaks, startGatewayRig } from '../harness/gateway.js';

let rig: GatewayRig;

beforeAll(async () => {
  await ensureS3Clients();
  rig = await startGatewayRig();
}, 600_000);
afterAll(async () => {
  await rig?.close();
});

// One script, driven by a JSON argument; it prints one JSON document with what it saw.
const SCRIPT = `
import hashlib, json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

args = json.loads(sys.argv[1])
def client(key):
    return boto3.client('s3', endpoint_url=args['endpoint'], region_name='us-east-1',
        aws_access_key_id=key['accessKeyId'], aws_secret_access_key=key['secretAccessKey'],
        config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
def code(fn):
    try:
        fn()
        return 'ok'
    except ClientError as e:
        return e.response['Error']['Code']

s3 = client(args['alice'])
out = {}
src = os.path.join(args['dir'], 'upload.bin')
with open(src, 'wb') as f:
    f.write(os.urandom(20 * 1024 * 1024 + 123))
# 20 MiB with 8 MiB parts: a multipart upload through upload_file, and a ranged, parallel download_file.
cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
s3.upload_file(src, 's3-sales', 'boto/upload.bin', Config=cfg)
dst = os.path.join(args['dir'], 'download.bin')
s3.download_file('s3-sales', 'boto/upload.bin', dst, Config=cfg)
digest = lambda p: hashlib.sha256(open(p, 'rb').read()).hexdigest()
out['roundTrip'] = digest(src) == digest(dst)

for i in range(25):
    s3.put_object(Bucket='s3-sales', Key='boto/page/%02d.txt' % i, Body=b'x' * i)
pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket='s3-sales', Prefix='boto/page/', PaginationConfig={'PageSize': 10}))
out['v2Pages'] = [len(p.get('Contents', [])) for p in pages]
out['v2Keys'] = [o['Key'] for p in pages for o in p.get('Contents', [])]
pages = list(s3.get_paginator('list_objects').paginate(Bucket='s3-sales', Prefix='boto/page/', PaginationConfig={'PageSize': 10}))
out['v1Pages'] = [len(p.get('Contents', [])) for p in pages]
folders = s3.list_objects_v2(Bucket='s3-sales', Delimiter='/')
out['rootFolders'] = [p['Prefix'] for p in folders.get('CommonPrefixes', [])]
out['startAfter'] = [o['Key'] for o in s3.list_objects_v2(Bucket='s3-sales', Prefix='boto/page/', StartAfter='boto/page/22.txt')['Contents']]

s3.copy_object(Bucket='s3-sales', Key='boto/copy.txt', CopySource={'Bucket': 's3-sales', 'Key': 'boto/page/05.txt'})
out['copy'] = s3.get_object(Bucket='s3-sales', Key='boto/copy.txt')['Body'].read().decode()
etag = s3.head_object(Bucket='s3-sales', Key='boto/copy.txt')['ETag']
out['ifNoneMatch'] = code(lambda: s3.get_object(Bucket='s3-sales', Key='boto/copy.txt', IfNoneMatch=etag))
out['ifMatchWrong'] = code(lambda: s3.get_object(Bucket='s3-sales', Key='boto/copy.txt', IfMatch='"nope"'))
out['range'] = s3.get_object(Bucket='s3-sales', Key='2024/q1.csv', Range='bytes=0-5')['Body'].read().decode()
deleted = s3.delete_objects(Bucket='s3-sales', Delete={'Objects': [{'Key': 'boto/page/%02d.txt' % i} for i in range(25)] + [{'Key': 'boto/copy.txt'}]})
out['deleted'] = len(deleted.get('Deleted', []))
out['presignedV2'] = s3.generate_presigned_url('get_object', Params={'Bucket': 's3-sales', 'Key': '2024/q2.csv'}, ExpiresIn=60)
v4 = boto3.client('s3', endpoint_url=args['endpoint'], region_name='us-east-1',
    aws_access_key_id=args['alice']['accessKeyId'], aws_secret_access_key=args['alice']['secretAccessKey'],
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
out['presigned'] = v4.generate_presigned_url('get_object', Params={'Bucket': 's3-sales', 'Key': '2024/q2.csv'}, ExpiresIn=60)

out['otherUsersConnection'] = code(lambda: client(args['bob']).list_objects_v2(Bucket=args['private']))
out['unknownConnection'] = code(lambda: s3.head_bucket(Bucket='no-such-connection'))
out['outsidePath'] = code(lambda: s3.get_object(Bucket='s3-sales', Key='../sales-archive/old.csv'))
out['missingKey'] = code(lambda: s3.get_object(Bucket='s3-sales', Key='2024/none.csv'))
out['revokedKey'] = code(lambda: client(args['revoked']).list_objects_v2(Bucket='s3-sales'))
wrong = dict(args['alice']); s = wrong['secretAccessKey']; wrong['secretAccessKey'] = ('y' if s[0] == 'x' else 'x') + s[1:]
out['wrongSecret'] = code(lambda: client(wrong).list_objects_v2(Bucket='s3-sales'))
out['notImplemented'] = code(lambda: s3.get_bucket_acl(Bucket='s3-sales'))
print(json.dumps(out))
`;

describe('boto3 through the gateway', () => {
  it('transfers, paginates, copies, deletes in batch and is denied where it must be', async () => {
    await writeFile(join(rig.dir, 'boto.py'), SCRIPT);
    const args = {
      endpoint: rig.endpoint,
      dir: rig.dir,
      alice: rig.alice,
      bob: rig.bob,
      revoked: rig.revoked,
      private: rig.privateConnection,
    };
    const res = await command('/usr/bin/python3', [join(rig.dir, 'boto.py'), JSON.stringify(args)], {
      cwd: rig.dir,
      timeoutMs: 180_000,
    });
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      roundTrip: true,
      v2Pages: [10, 10, 5],
      v1Pages: [10, 10, 5],
      rootFolders: ['2024/', 'boto/'],
      startAfter: ['boto/page/23.txt', 'boto/page/24.txt'],
      copy: 'xxxxx',
      ifNoneMatch: '304',
      ifMatchWrong: 'PreconditionFailed',
      range: 'region',
      deleted: 26,
      otherUsersConnection: 'NoSuchBucket',
      unknownConnection: '404',
      outsidePath: 'AccessDenied',
      missingKey: 'NoSuchKey',
      revokedKey: 'InvalidAccessKeyId',
      wrongSecret: 'SignatureDoesNotMatch',
      notImplemented: 'NotImplemented',
    });
    expect((out.v2Keys as string[]).length).toBe(25);
    // The presigned URL boto3 made works with any HTTP client, and only until it is changed.
    const presigned = out.presigned as string;
    const got = await fetch(presigned);
    expect(await got.text()).toBe(rig.rg.seed.objects['sales/2024/q2.csv']);
    const tampered = await fetch(presigned.replace('q2.csv', 'q1.csv'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    // Debian's botocore presigns with Signature Version 2 by default: refused, and said so.
    const v2 = await fetch(out.presignedV2 as string);
    expect(v2.status).toBe(400);
    expect(await v2.text()).toContain('Signature Version 4');
    expect(gatewayLeaks(rig)).toEqual([]);
  }, 180_000);
});
