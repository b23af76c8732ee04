import type { Logger } from 'pino';
import { type Db, dialectOf } from '../../db/connect.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { CredentialEngine } from '../credentials/credential-engine.js';
import type { StsBudgetLedger, StsBudgetSettings } from '../credentials/sts-budget.js';
import type { RevocationService } from '../fastpath/revocation.service.js';
import type { IdentityService } from '../identity/identity.service.js';
import { type ChangeFeed, type ClusterChange, localChangeFeed, postgresChangeFeed } from './change-feed.js';
import { createSharedSessionStore, type SharedSessionStore } from './shared-sessions.store.js';
import { sharedStsLedger } from './sts-budget.store.js';

/** What makes several instances on one store behave as one: change notifications and shared role sessions. */
export interface Cluster {
  /** Present on PostgreSQL only (on SQLite one process is the whole cluster). */
  readonly sharedSessions?: SharedSessionStore;
  /** PostgreSQL only: the STS budget's buckets, one for all instances. */
  readonly stsLedger?: (settings: StsBudgetSettings) => StsBudgetLedger;
  /** Tells the other instances; never throws (a lost notification is bounded by the caches' TTL). */
  publish(change: ClusterChange): void;
  /** Applies other instances' changes to this instance's caches. */
  follow(caches: {
    identity: Pick<IdentityService, 'forgetCachedUser' | 'forgetAllCached'>;
    connections: Pick<ConnectionsService, 'forgetCached' | 'forgetAllCached'>;
    engine: Pick<CredentialEngine, 'forgetUser' | 'forgetConnection' | 'forgetUserConnection' | 'forgetAll'>;
    revocations: Pick<RevocationService, 'forgetGeneration' | 'forgetAllGenerations'>;
  }): void;
  close(): Promise<void>;
}

export async function createCluster(options: {
  readonly db: Db;
  readonly url: string;
  readonly box: SecretBox;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
}): Promise<Cluster> {
  let feed: ChangeFeed = localChangeFeed();
  let sharedSessions: SharedSessionStore | undefined;
  if (dialectOf(options.db) === 'postgres') {
    const pgFeed = postgresChangeFeed({ db: options.db, url: options.url, logger: options.logger });
    await pgFeed.ready;
    feed = pgFeed;
    sharedSessions = createSharedSessionStore(options.db, options.box);
  }
  return {
    ...(sharedSessions === undefined
      ? {}
      : { sharedSessions, stsLedger: (settings: StsBudgetSettings) => sharedStsLedger(options.db, settings) }),
    publish(change) {
      feed.publish(change).catch((err: unknown) => {
        options.logger.warn({ err, change: change.kind }, 'could not notify the other instances of a change');
      });
    },
    follow({ identity, connections, engine, revocations }) {
      feed.subscribe((change) => {
        switch (change.kind) {
          case 'user':
            identity.forgetCachedUser(change.userId);
            engine.forgetUser(change.userId, 'local');
            return;
          case 'tokens':
            identity.forgetCachedUser(change.userId);
            return;
          case 'connection':
            connections.forgetCached(change.name);
            engine.forgetConnection(change.name, 'local');
            return;
          case 'revocation':
            // The new generation first: a session obtained after this carries the new name.
            revocations.forgetGeneration(change.userId, change.connection);
            engine.forgetUserConnection(change.userId, change.connection, 'local');
            return;
          case 'all':
            identity.forgetAllCached();
            connections.forgetAllCached();
            revocations.forgetAllGenerations();
            engine.forgetAll();
            return;
        }
      });
    },
    close: () => feed.close(),
  };
}
