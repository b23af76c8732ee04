import type { Db } from '../../db/connect.js';
import type { SecretBox } from '../../lib/secret-box.js';

/** A stored keypair. The secret half is sealed at rest and only opened inside the credential engine. */
export interface StoredKeypair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where secrets live, by stable id: `connection/<name>` or `user/<userId>/connection/<name>`. */
export interface VaultStore {
  put(id: string, keypair: StoredKeypair, now: string): Promise<void>;
  get(id: string): Promise<StoredKeypair | undefined>;
  delete(id: string): Promise<boolean>;
  /** Ids with the given prefix (no secret material). */
  listIds(prefix: string): Promise<string[]>;
}

export const connectionSecretId = (connection: string): string => `connection/${connection}`;
export const userKeypairId = (userId: string, connection: string): string => `user/${userId}/connection/${connection}`;

export function createVaultStore(db: Db, box: SecretBox): VaultStore {
  return {
    async put(id, keypair, now) {
      const sealed = box.seal(JSON.stringify(keypair), id);
      await db
        .insertInto('vault_secrets')
        .values({ id, sealed, updated_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ sealed, updated_at: now }))
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('vault_secrets').select('sealed').where('id', '=', id).executeTakeFirst();
      if (row === undefined) return undefined;
      const parsed = JSON.parse(box.open(row.sealed, id)) as StoredKeypair;
      return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
    },
    async delete(id) {
      const r = await db.deleteFrom('vault_secrets').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async listIds(prefix) {
      const rows = await db
        .selectFrom('vault_secrets')
        .select('id')
        // LIKE narrows, startsWith decides: `_` and `%` in an id would otherwise act as wildcards.
        .where('id', 'like', `${prefix}%`)
        .execute();
      return rows.map((r) => r.id).filter((id) => id.startsWith(prefix));
    },
  };
}
