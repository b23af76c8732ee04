import type { Db } from '../../db/connect.js';
import type { UserRole } from '../../domain/model.js';

/** The two changes config as code makes that the identity API has no route for: a user's role, a group's description. */
export interface ConfigStore {
  setUserRole(userId: string, role: UserRole): Promise<void>;
  setGroupDescription(name: string, description: string): Promise<void>;
}

/** Over the database or, when applying, over the transaction. */
export function createConfigStore(db: Db): ConfigStore {
  return {
    async setUserRole(userId, role) {
      await db.updateTable('users').set({ role }).where('id', '=', userId).execute();
    },
    async setGroupDescription(name, description) {
      await db.updateTable('groups').set({ description }).where('name', '=', name).execute();
    },
  };
}
