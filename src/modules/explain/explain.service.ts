import { type Explanation, explainAccess } from '../../domain/explain.js';
import type { Principal } from '../../domain/model.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import { userKeypairId, type VaultStore } from '../credentials/vault.store.js';
import type { IdentityService } from '../identity/identity.service.js';

export interface ExplainServiceDeps {
  readonly identity: Pick<IdentityService, 'principalFor'>;
  readonly connections: Pick<ConnectionsService, 'model'>;
  readonly vault: Pick<VaultStore, 'get'>;
}

export type ExplainService = ReturnType<typeof createExplainService>;

/** "Can user U do X on connection C?" — answered by the same rules as real requests, touching neither STS nor S3. */
export function createExplainService(deps: ExplainServiceDeps) {
  return {
    async explain(
      actor: Principal,
      input: { user: string; connection: string; key?: string | undefined; write?: boolean | undefined },
    ): Promise<Explanation> {
      const subject = await deps.identity.principalFor(actor, input.user);
      const { connection } = await deps.connections.model(actor, input.connection);
      const explanation = explainAccess(subject, connection, { key: input.key, write: input.write });
      if (!explanation.allowed || connection.mode !== 'per-user-keypair') return explanation;
      // The one rule that needs the store: a per-user keypair must exist.
      if ((await deps.vault.get(userKeypairId(subject.userId, connection.name))) !== undefined) return explanation;
      const reason = `connection "${connection.name}" uses per-user keypairs and user "${subject.username}" has not stored one`;
      return {
        ...explanation,
        allowed: false,
        path: 'none',
        denial: { code: 'credentials.user_keypair_missing', reason },
        steps: [...explanation.steps, { rule: 'per-user keypair', outcome: 'fail', detail: reason }],
      };
    },
  };
}
