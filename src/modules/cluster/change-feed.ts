import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../../db/connect.js';

/** A change that makes other instances' caches stale. */
export type ClusterChange =
  /** A user's properties, groups, role or existence: cached principals and role sessions go. */
  | { readonly kind: 'user'; readonly userId: string }
  /** One of a user's tokens was revoked: cached principals go. */
  | { readonly kind: 'tokens'; readonly userId: string }
  /** A connection was edited or deleted: its cached record and role sessions go. */
  | { readonly kind: 'connection'; readonly name: string }
  /** A user's role sessions on a connection were revoked: the cached ones and their session-name generation go. */
  | { readonly kind: 'revocation'; readonly userId: string; readonly connection: string }
  /** This instance may have missed changes (its listener reconnected): everything cached goes. */
  | { readonly kind: 'all' };

/**
 * Tells the other instances on the same store about changes, so that each drops what it cached at once instead
 * of serving it until a TTL passes. On PostgreSQL: NOTIFY on one channel, LISTEN on a dedicated connection.
 */
export interface ChangeFeed {
  publish(change: ClusterChange): Promise<void>;
  /** `apply` runs for changes made by other instances only (this one already applied its own). */
  subscribe(apply: (change: ClusterChange) => void): void;
  close(): Promise<void>;
}

const CHANNEL = 'rolegate_changes';

/** One process is the whole cluster (SQLite): nothing to tell anyone. */
export function localChangeFeed(): ChangeFeed {
  return { publish: async () => {}, subscribe: () => {}, close: async () => {} };
}

function parseChange(payload: string | undefined, self: string): ClusterChange | undefined {
  if (payload === undefined) return undefined;
  try {
    const { origin, change } = JSON.parse(payload) as { origin?: unknown; change?: ClusterChange };
    if (origin === self || typeof change !== 'object' || change === null) return undefined;
    return change;
  } catch {
    return undefined;
  }
}

export function postgresChangeFeed(options: {
  readonly db: Db;
  readonly url: string;
  readonly logger: Pick<Logger, 'warn' | 'info'>;
  /** Wait before reconnecting a lost listener. */
  readonly reconnectMs?: number;
}): ChangeFeed & { ready: Promise<void> } {
  const self = randomUUID();
  const listeners: Array<(change: ClusterChange) => void> = [];
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const deliver = (change: ClusterChange) => {
    for (const apply of listeners) apply(change);
  };

  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: options.url });
    c.on('notification', (msg) => {
      const change = parseChange(msg.payload, self);
      if (change !== undefined) deliver(change);
    });
    c.on('error', (err) => {
      options.logger.warn({ err }, 'cluster change listener lost its connection; reconnecting');
      if (client === c) client = undefined;
      c.end().catch(() => undefined);
      schedule();
    });
    await c.connect();
    await c.query(`listen ${CHANNEL}`);
    if (closed) {
      await c.end();
      return;
    }
    client = c;
  }

  function schedule(): void {
    if (closed || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      listen()
        .then(() => {
          // Whatever changed while nobody listened is unknown: drop it all.
          if (!closed) deliver({ kind: 'all' });
        })
        .catch((err: unknown) => {
          options.logger.warn({ err }, 'cluster change listener could not reconnect; retrying');
          schedule();
        });
    }, options.reconnectMs ?? 1_000);
  }

  return {
    ready: listen(),
    async publish(change) {
      await sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ origin: self, change })})`.execute(options.db);
    },
    subscribe(apply) {
      listeners.push(apply);
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
