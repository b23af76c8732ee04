import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3ClientPool } from '../../cloud/aws/s3.js';
import { mapS3Error } from '../../cloud/aws/s3-errors.js';
import type { Principal, Scope } from '../../domain/model.js';
import { notFound, type RolegateError } from '../../errors/errors.js';
import type { CredentialsService } from '../credentials/credentials.service.js';

/** What every slow-path service needs: the user's role session for a connection, and S3 clients for it. */
export interface DataSessionDeps {
  readonly credentials: Pick<CredentialsService, 'sessionForData'>;
  readonly s3: Pick<S3ClientPool, 'clientForBucket'>;
}

/** An S3 client acting as the user for one connection, and the scope it is confined to. */
export interface DataSession {
  readonly client: S3Client;
  readonly scope: Scope;
}

/** Decides and obtains the user's role session for `connection` (audited by the credentials service). */
export async function openDataSession(
  deps: DataSessionDeps,
  actor: Principal,
  connection: string,
  intent: 'read' | 'write',
): Promise<DataSession> {
  const { record, session, scope } = await deps.credentials.sessionForData(actor, connection, intent);
  const client = await deps.s3.clientForBucket(record.connection.target, session.credentials).catch((e: unknown) => {
    throw mapS3Error(e, { connection });
  });
  return { client, scope };
}

/**
 * S3 answers 403, not 404, for a missing key when the caller's ListBucket right is conditional (as in every
 * scope-down policy). A one-key listing tells the two apart, so users see "not found" for what is not there.
 */
export async function explainDenied(
  error: unknown,
  { client, scope }: DataSession,
  fullKey: string,
  connection: string,
  key: string,
): Promise<RolegateError> {
  const mapped = mapS3Error(error, { connection, key });
  if (mapped.code !== 's3.access_denied') return mapped;
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: scope.bucket, Prefix: fullKey, MaxKeys: 1 }));
    if (!(out.Contents ?? []).some((o) => o.Key === fullKey)) {
      return notFound('object.not_found', `"${key}" does not exist in connection "${connection}"`, {
        details: { connection },
      });
    }
  } catch {
    // Listing is denied too: keep the original denial.
  }
  return mapped;
}
