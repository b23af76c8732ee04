import { type Kysely, type Migration, type MigrationProvider, Migrator, PostgresAdapter, sql } from 'kysely';
import { internal } from '../errors/errors.js';

/** Schema history. Append only: a released migration is never edited. */
const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_name', 'text', (c) => c.notNull().references('groups.name').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_members_pk', ['group_name', 'user_id'])
        .execute();
      await db.schema
        .createTable('user_properties')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_properties_pk', ['user_id', 'name'])
        .execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema
        .createTable('connections')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('vault_secrets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await sql`create index api_tokens_user on api_tokens (user_id)`.execute(db);
    },
  },
  '0002_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('connection', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('session_name', 'text')
        .addColumn('object_key', 'text')
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await sql`create index audit_events_time on audit_events (time)`.execute(db);
      await sql`create index audit_events_actor on audit_events (actor, seq)`.execute(db);
      await sql`create index audit_events_connection on audit_events (connection, seq)`.execute(db);
      // The last archived event: the chain of what remains starts from it.
      await db.schema
        .createTable('audit_anchor')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('archived_to', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003_fastpath': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('exec_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text')
        .addColumn('read_only', 'integer', (c) => c.notNull())
        .addColumn('duration_seconds', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('session_generations')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('generation', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_generations_pk', ['user_id', 'connection'])
        .execute();
      await db.schema
        .createTable('issued_role_sessions')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text', (c) => c.notNull())
        .addColumn('session_name', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('issued_role_sessions_pk', ['user_id', 'connection', 'role_arn', 'session_name'])
        .execute();
      await db.schema
        .createTable('session_revocations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text', (c) => c.notNull())
        .addColumn('role_id', 'text', (c) => c.notNull())
        .addColumn('session_name', 'text', (c) => c.notNull())
        .addColumn('revoked_by', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text', (c) => c.notNull())
        .addColumn('deny_until', 'text', (c) => c.notNull())
        .execute();
      await sql`create index session_revocations_role on session_revocations (role_arn, deny_until)`.execute(db);
    },
  },
  '0004_gateway_keys': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('gateway_keys')
        .addColumn('access_key_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await sql`create index gateway_keys_user on gateway_keys (user_id)`.execute(db);
    },
  },
  '0005_catalog': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('datasets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('columns', 'text', (c) => c.notNull())
        .addColumn('partition_columns', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('catalog', 'text', (c) => c.notNull())
        .addColumn('glue_database', 'text')
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('datasets_project_name', ['project', 'name'])
        .execute();
      await sql`create index datasets_connection on datasets (connection)`.execute(db);
      await db.schema
        .createTable('dataset_writes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('partition', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('cleaned', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await sql`create index dataset_writes_dataset on dataset_writes (dataset_id, cleaned)`.execute(db);
      await db.schema
        .createTable('dataset_write_files')
        .addColumn('write_id', 'text', (c) => c.notNull().references('dataset_writes.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('columns', 'text', (c) => c.notNull())
        .addColumn('header_bytes', 'integer')
        .addColumn('ends_with_newline', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dataset_write_files_pk', ['write_id', 'name'])
        .execute();
      await db.schema
        .createTable('catalog_bindings')
        .addColumn('connection', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('glue_database', 'text', (c) => c.notNull())
        .addColumn('region', 'text')
        .addColumn('endpoint', 'text')
        .addColumn('catalog_id', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006_federation': {
    async up(db: Kysely<unknown>) {
      // Rolegate sessions (a notebook, a job, a CLI shell): a bearer token of their own (hash only) and a role.
      await db.schema
        .createTable('user_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await sql`create index user_sessions_user on user_sessions (user_id)`.execute(db);
      // Roles the identity provider entitled a user to at their last login.
      await db.schema
        .createTable('user_idp_roles')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role_arn', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_idp_roles_pk', ['user_id', 'role_arn'])
        .execute();
      await db.schema
        .createTable('mounts')
        .addColumn('path', 'text', (c) => c.primaryKey())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text')
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0007_cluster': {
    async up(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        // SQLite integers are 64-bit already; PostgreSQL's `integer` is 32-bit (files over 2 GiB, long trails).
        await sql`alter table dataset_write_files alter column size type bigint, alter column rows type bigint`.execute(
          db,
        );
        await sql`alter table audit_events alter column seq type bigint`.execute(db);
        await sql`alter table audit_anchor alter column seq type bigint`.execute(db);
      }
      // Role sessions shared between instances (PostgreSQL): sealed with the vault key, keyed by a hash.
      await db.schema
        .createTable('shared_role_sessions')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('refresh_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await sql`create index shared_role_sessions_expiry on shared_role_sessions (expires_at)`.execute(db);
      await sql`create index shared_role_sessions_owner on shared_role_sessions (user_id, connection)`.execute(db);
      await sql`create index shared_role_sessions_connection on shared_role_sessions (connection)`.execute(db);
    },
  },
  '0008_oidc': {
    async up(db: Kysely<unknown>) {
      // Which rolegate user an identity provider's subject is: a login never takes over a user by name alone.
      await db.schema
        .createTable('oidc_identities')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_identities_pk', ['issuer', 'subject'])
        .execute();
      await sql`create unique index oidc_identities_user on oidc_identities (user_id, issuer)`.execute(db);
      // The ID token of a session (direct mode), sealed with the vault key; gone with the session.
      await db.schema
        .createTable('session_web_identities')
        .addColumn('session_id', 'text', (c) => c.primaryKey().references('user_sessions.id').onDelete('cascade'))
        .addColumn('sealed_token', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0009_signing': {
    async up(db: Kysely<unknown>) {
      // Connections stored before remote signing carry no signingAllowedBy; write the default (nobody) into each
      // spec so that what the store holds says it, and config as code sees no change where none was declared.
      const rows = await sql<{ name: string; spec: string }>`select name, spec from connections`.execute(db);
      for (const row of rows.rows) {
        const spec = JSON.parse(row.spec) as Record<string, unknown>;
        if (spec.signingAllowedBy !== undefined) continue;
        const updated = JSON.stringify({ ...spec, signingAllowedBy: { kind: 'nobody' } });
        await sql`update connections set spec = ${updated} where name = ${row.name}`.execute(db);
      }
    },
  },
  '0010_pending_uploads': {
    async up(db: Kysely<unknown>) {
      // Multipart uploads rolegate started and has not seen completed or aborted: what a sweep aborts after a
      // crash. No foreign key to users: a deleted owner's record must stay, to be reported by the sweep.
      await db.schema
        .createTable('pending_uploads')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('upload_id', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('session_id', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pending_uploads_pk', ['bucket', 'upload_id'])
        .execute();
      await sql`create index pending_uploads_instance on pending_uploads (instance_id)`.execute(db);
    },
  },
  '0011_login_states': {
    async up(db: Kysely<unknown>) {
      // Single-use sign-in state (pending logins, CLI codes, SAML request and assertion ids) in the shared store,
      // so that any instance finishes what another started. Keys are hashed, values sealed.
      await db.schema
        .createTable('login_states')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('login_states_pk', ['kind', 'key_hash'])
        .execute();
      await sql`create index login_states_expiry on login_states (kind, expires_at)`.execute(db);
    },
  },
  '0012_sts_budgets': {
    async up(db: Kysely<unknown>) {
      // The STS budget's token buckets, shared by the instances on one store (one row per master identity).
      await db.schema
        .createTable('sts_budgets')
        .addColumn('identity_hash', 'text', (c) => c.primaryKey())
        .addColumn('tokens', 'double precision', (c) => c.notNull())
        .addColumn('updated_ms', 'double precision', (c) => c.notNull())
        .execute();
    },
  },
  '0013_audit_id_not_unique': {
    async up(db: Kysely<unknown>) {
      // Nothing looks an event up by id (the event's JSON carries it, seq orders the chain, the hash binds both),
      // yet its unique index cost every audit commit one more page written: about 7 µs for a commit of one event.
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        await sql`alter table audit_events drop constraint if exists audit_events_id_key`.execute(db);
        return;
      }
      // SQLite cannot drop a column's UNIQUE: the table is rebuilt (SQLite's documented procedure) in a transaction
      // of its own (Kysely runs SQLite migrations outside one), so an interrupted upgrade leaves the old table whole,
      // and running this again after a crash before the migration was recorded rebuilds it once more, harmlessly.
      await db.transaction().execute(async (tx) => {
        await sql`create table audit_events_rebuilt (
          seq integer primary key,
          id text not null,
          time text not null,
          actor text,
          action text not null,
          connection text,
          outcome text not null,
          session_name text,
          object_key text,
          event text not null,
          prev_hash text not null,
          hash text not null
        )`.execute(tx);
        await sql`insert into audit_events_rebuilt
          select seq, id, time, actor, action, connection, outcome, session_name, object_key, event, prev_hash, hash
          from audit_events`.execute(tx);
        await sql`drop table audit_events`.execute(tx);
        await sql`alter table audit_events_rebuilt rename to audit_events`.execute(tx);
        await sql`create index audit_events_time on audit_events (time)`.execute(tx);
        await sql`create index audit_events_actor on audit_events (actor, seq)`.execute(tx);
        await sql`create index audit_events_connection on audit_events (connection, seq)`.execute(tx);
      });
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; fails loudly (never half-migrated silently). */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<void> {
  await migrate(db, (migrator) => migrator.migrateToLatest());
}

/** Brings the schema up to migration `name` and no further (upgrade tests start from an older schema). */
export async function migrateTo<T>(db: Kysely<T>, name: string): Promise<void> {
  await migrate(db, (migrator) => migrator.migrateTo(name));
}

async function migrate<T>(
  db: Kysely<T>,
  run: (migrator: Migrator) => ReturnType<Migrator['migrateToLatest']>,
): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await run(migrator);
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw internal('db.migration_failed', `database migration ${failed} failed`, { cause: error });
  }
}
