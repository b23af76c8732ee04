import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GetBucketLocationCommand, S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentials, ConnectionTarget } from '../../domain/model.js';
import { LruMap } from '../../lib/lru-map.js';

const multipartCreations = new AsyncLocalStorage<(uploadId: string) => Promise<void>>();

/**
 * Runs `fn` so that a CreateMultipartUpload it sends through a pooled client — lib-storage's, inside
 * `Upload.done()`, which tells nobody its upload id — reports the new id to `onCreated` before the answer reaches
 * the sender. No part is sent before `onCreated` settles; when it throws, the create fails with its error (the
 * upload then exists in S3 without anyone knowing its id: `onCreated` must abort it before throwing).
 */
export function onMultipartCreated<T>(
  onCreated: (uploadId: string) => Promise<void>,
  fn: () => Promise<T>,
): Promise<T> {
  return multipartCreations.run(onCreated, fn);
}

/**
 * S3 clients keyed by target and access key. Clients share one keep-alive socket pool, so creating
 * one per role session costs no connections; the map bound keeps memory flat with many users.
 */
export class S3ClientPool {
  readonly #clients: LruMap<string, S3Client>;
  readonly #regions = new LruMap<string, string>(1000);
  readonly #httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  constructor(maxClients = 2000) {
    this.#clients = new LruMap(maxClients);
  }

  client(target: ConnectionTarget, credentials: AwsCredentials, region = target.region): S3Client {
    const key = [
      target.endpoint ?? '',
      region,
      target.forcePathStyle,
      credentials.accessKeyId,
      credentials.sessionToken ?? '',
    ].join('\u0000');
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = new S3Client({
        region,
        endpoint: target.endpoint,
        forcePathStyle: target.forcePathStyle,
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
        },
        // Ask for checksums only when an operation needs them: RGW and many S3-compatible stores predate them.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { httpAgent: this.#httpAgent, httpsAgent: this.#httpsAgent, connectionTimeout: 5_000 },
      });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          const onCreated = multipartCreations.getStore();
          if (onCreated !== undefined && context.commandName === 'CreateMultipartUploadCommand') {
            const uploadId = 'UploadId' in out.output ? out.output.UploadId : undefined;
            if (typeof uploadId === 'string') await onCreated(uploadId);
          }
          return out;
        },
        { step: 'initialize', name: 'rolegateMultipartCreated' },
      );
      this.#clients.set(key, client);
    }
    return client;
  }

  /** The client for the bucket's own region when the target asks for it (looked up once per bucket). */
  async clientForBucket(target: ConnectionTarget, credentials: AwsCredentials): Promise<S3Client> {
    if (!target.useBucketRegion) return this.client(target, credentials);
    const regionKey = `${target.endpoint ?? ''}\u0000${target.bucket}`;
    let region = this.#regions.get(regionKey);
    if (region === undefined) {
      const out = await this.client(target, credentials).send(new GetBucketLocationCommand({ Bucket: target.bucket }));
      // An empty LocationConstraint means us-east-1 (S3's historical default).
      region = out.LocationConstraint && out.LocationConstraint.length > 0 ? out.LocationConstraint : 'us-east-1';
      this.#regions.set(regionKey, region);
    }
    return this.client(target, credentials, region);
  }

  destroy(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}
