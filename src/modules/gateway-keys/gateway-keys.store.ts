import type { Db } from '../../db/connect.js';
import type { SecretBox } from '../../lib/secret-box.js';

/** A gateway key without its secret. */
export interface GatewayKeyRecord {
  readonly accessKeyId: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: string;
}

/** Gateway keys; the secret half is sealed at rest and opened only to verify a signature. */
export interface GatewayKeyStore {
  create(key: GatewayKeyRecord, secret: string): Promise<void>;
  /** The key and its opened secret, or undefined when there is no such key (revoked, or its user deleted). */
  findWithSecret(accessKeyId: string): Promise<{ key: GatewayKeyRecord; secret: string } | undefined>;
  listByUser(userId: string): Promise<GatewayKeyRecord[]>;
  delete(accessKeyId: string, userId: string): Promise<boolean>;
}

/** The associated data that binds a sealed secret to its own row. */
const aad = (accessKeyId: string) => `gateway-key/${accessKeyId}`;

export function createGatewayKeyStore(db: Db, box: SecretBox): GatewayKeyStore {
  const toRecord = (r: { access_key_id: string; user_id: string; name: string; created_at: string }) => ({
    accessKeyId: r.access_key_id,
    userId: r.user_id,
    name: r.name,
    createdAt: r.created_at,
  });
  return {
    async create(key, secret) {
      await db
        .insertInto('gateway_keys')
        .values({
          access_key_id: key.accessKeyId,
          user_id: key.userId,
          name: key.name,
          sealed_secret: box.seal(secret, aad(key.accessKeyId)),
          created_at: key.createdAt,
        })
        .execute();
    },
    async findWithSecret(accessKeyId) {
      const row = await db
        .selectFrom('gateway_keys')
        .selectAll()
        .where('access_key_id', '=', accessKeyId)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return { key: toRecord(row), secret: box.open(row.sealed_secret, aad(row.access_key_id)) };
    },
    async listByUser(userId) {
      const rows = await db
        .selectFrom('gateway_keys')
        .select(['access_key_id', 'user_id', 'name', 'created_at'])
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute();
      return rows.map(toRecord);
    },
    async delete(accessKeyId, userId) {
      const r = await db
        .deleteFrom('gateway_keys')
        .where('access_key_id', '=', accessKeyId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
