import { decideUse } from '../../domain/access.js';
import { validateConnection } from '../../domain/connection-spec.js';
import { type AccessRule, type Connection, DEFAULT_SESSION_NAME_TEMPLATE, type Principal } from '../../domain/model.js';
import { invalidInput, notFound, permissionDenied } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { TtlCache } from '../../lib/ttl-cache.js';
import { connectionSecretId, userKeypairId, type VaultStore } from '../credentials/vault.store.js';
import { requireAdmin } from '../identity/identity.service.js';
import type { AccessRuleInput, ConnectionInput, ConnectionView } from './connection-input.js';
import type { ConnectionRecord, ConnectionStore } from './connections.store.js';

export interface ConnectionsServiceDeps {
  readonly store: ConnectionStore;
  readonly vault: Pick<VaultStore, 'put' | 'get' | 'delete' | 'listIds'>;
  readonly clock: Clock;
  /** How long a connection record stays cached for use (0 disables the cache). */
  readonly cacheTtlMs?: number;
  /** Told when a connection changes or disappears, so cached role sessions are dropped. */
  readonly onConnectionChanged?: (name: string) => void;
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;

const toRule = (r: AccessRuleInput): AccessRule =>
  r === 'everyone' ? { kind: 'everyone' } : r === 'nobody' ? { kind: 'nobody' } : { kind: 'groups', groups: r.groups };
const fromRule = (r: AccessRule): AccessRuleInput => (r.kind === 'groups' ? { groups: [...r.groups] } : r.kind);

/** The connection model an API input describes; throws `connection.invalid` naming the field. */
export function toConnection(input: ConnectionInput): Connection {
  const c = input.credentials;
  return validateConnection({
    name: input.name,
    description: input.description,
    target: {
      region: input.region,
      endpoint: input.endpoint,
      stsEndpoint: input.stsEndpoint,
      forcePathStyle: input.forcePathStyle,
      useBucketRegion: input.useBucketRegion,
      bucket: input.bucket,
      pathInBucket: input.path,
    },
    mode: c.mode,
    accessKeyId:
      c.mode === 'keypair' || (c.mode === 'assume-role' && c.master === 'keypair') ? c.accessKeyId : undefined,
    assumeRole:
      c.mode === 'assume-role'
        ? { roleArn: c.roleArn, externalId: c.externalId, durationSeconds: c.durationSeconds, master: c.master }
        : undefined,
    usableBy: toRule(input.usableBy),
    detailsReadableBy: toRule(input.detailsReadableBy),
    signingAllowedBy: toRule(input.signingAllowedBy ?? 'nobody'),
    allowedRoles: input.allowedRoles,
    sessionNameTemplate: input.sessionNameTemplate ?? DEFAULT_SESSION_NAME_TEMPLATE,
    readOnly: input.readOnly,
    ...(input.homeDirectories ? { homeDirectories: true } : {}),
  });
}

/** The secret half of the keypair an input carries, if any. */
function secretOf(input: ConnectionInput): string | undefined {
  const c = input.credentials;
  return c.mode === 'keypair' || c.mode === 'assume-role' ? c.secretAccessKey : undefined;
}

function toView(record: ConnectionRecord, secretStored: boolean): ConnectionView {
  const c = record.connection;
  return {
    name: c.name,
    description: c.description,
    bucket: c.target.bucket,
    path: c.target.pathInBucket,
    region: c.target.region,
    endpoint: c.target.endpoint,
    stsEndpoint: c.target.stsEndpoint,
    forcePathStyle: c.target.forcePathStyle,
    useBucketRegion: c.target.useBucketRegion,
    readOnly: c.readOnly,
    ...(c.homeDirectories === true ? { homeDirectories: true } : {}),
    credentials: {
      mode: c.mode,
      accessKeyId: c.accessKeyId,
      roleArn: c.assumeRole?.roleArn,
      externalIdSet: c.assumeRole ? c.assumeRole.externalId !== undefined : undefined,
      // AWS documents the external id as not secret; returning it lets an edit keep it.
      externalId: c.assumeRole?.externalId,
      durationSeconds: c.assumeRole?.durationSeconds,
      master: c.assumeRole?.master,
      secretStored: c.accessKeyId !== undefined ? secretStored : undefined,
    },
    usableBy: fromRule(c.usableBy),
    detailsReadableBy: fromRule(c.detailsReadableBy),
    signingAllowedBy: fromRule(c.signingAllowedBy ?? { kind: 'nobody' }),
    allowedRoles: [...c.allowedRoles],
    sessionNameTemplate: c.sessionNameTemplate,
    version: record.version,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Connections: admin CRUD (secrets into the vault) and the per-user view of what one may use. */
export function createConnectionsService(deps: ConnectionsServiceDeps) {
  const { store, vault, clock } = deps;
  const nowIso = () => new Date(clock.now()).toISOString();
  // Every data and credentials request resolves its connection; cache the record, drop it on any change.
  const records = new TtlCache<string, ConnectionRecord>({
    ttlMs: deps.cacheTtlMs ?? 5_000,
    maxEntries: 10_000,
    clock,
  });
  const changed = (name: string) => {
    records.delete(name);
    deps.onConnectionChanged?.(name);
  };
  const hidden = (name: string) => notFound('connection.not_found', `connection "${name}" does not exist`);

  async function storeSecret(connection: Connection, secret: string | undefined, required: boolean, now: string) {
    if (connection.accessKeyId === undefined) {
      await vault.delete(connectionSecretId(connection.name));
      return;
    }
    if (secret !== undefined) {
      await vault.put(
        connectionSecretId(connection.name),
        { accessKeyId: connection.accessKeyId, secretAccessKey: secret },
        now,
      );
    } else if (required) {
      throw invalidInput('connection.invalid', 'credentials.secretAccessKey: required for this credentials mode', {
        details: { field: 'credentials.secretAccessKey' },
      });
    }
  }

  async function viewOf(record: ConnectionRecord): Promise<ConnectionView> {
    const stored =
      record.connection.accessKeyId !== undefined &&
      (await vault.get(connectionSecretId(record.connection.name))) !== undefined;
    return toView(record, stored);
  }

  async function record(name: string): Promise<ConnectionRecord> {
    const r = await store.find(name);
    if (r === undefined) throw hidden(name);
    return r;
  }

  return {
    /** Drops this instance's cached record of a connection (another instance changed it). */
    forgetCached(name: string): void {
      records.delete(name);
    },

    /** Drops every cached connection record (changes may have been missed). */
    forgetAllCached(): void {
      records.clear();
    },

    async create(actor: Principal, input: ConnectionInput): Promise<ConnectionView> {
      requireAdmin(actor);
      const connection = toConnection(input);
      const now = nowIso();
      // Write the secret before the row so a connection is never visible without its keypair.
      await storeSecret(connection, secretOf(input), true, now);
      try {
        return await viewOf(await store.create(connection, now));
      } catch (e) {
        // Inside a PostgreSQL transaction (config as code) the failed insert aborted it: no cleanup query can run,
        // and the rollback undoes the secret anyway. The original error is what the caller must see.
        await (async () => {
          if ((await store.find(connection.name)) === undefined)
            await vault.delete(connectionSecretId(connection.name));
        })().catch(() => undefined);
        throw e;
      }
    },

    /** Replaces a connection. Omitting the secret keeps the stored one when the access key id is unchanged. */
    async update(
      actor: Principal,
      name: string,
      input: ConnectionInput,
      expectedVersion?: number,
    ): Promise<ConnectionView> {
      requireAdmin(actor);
      if (input.name !== name) throw invalidInput('connection.rename_unsupported', 'a connection cannot be renamed');
      const existing = await record(name);
      const connection = toConnection(input);
      const sameKey = existing.connection.accessKeyId === connection.accessKeyId;
      const now = nowIso();
      await storeSecret(connection, secretOf(input), !sameKey, now);
      const updated = await store.update(connection, expectedVersion, now);
      changed(name);
      return viewOf(updated);
    },

    async remove(actor: Principal, name: string): Promise<void> {
      requireAdmin(actor);
      if (!(await store.delete(name))) throw hidden(name);
      await vault.delete(connectionSecretId(name));
      for (const id of await vault.listIds('user/')) {
        if (id.endsWith(`/connection/${name}`)) await vault.delete(id);
      }
      changed(name);
    },

    /** Admins see every connection; users see those they may use. */
    /** The connection model itself, for explaining decisions: admins see any, users those they may use. */
    async model(actor: Principal, name: string): Promise<ConnectionRecord> {
      const r = await record(name);
      if (actor.role !== 'admin' && !decideUse(actor, r.connection).allowed) throw hidden(name);
      return r;
    },

    async get(actor: Principal, name: string): Promise<ConnectionView> {
      const r = await record(name);
      if (actor.role !== 'admin' && !decideUse(actor, r.connection).allowed) throw hidden(name);
      return viewOf(r);
    },

    async list(actor: Principal): Promise<ConnectionView[]> {
      const all = await store.list();
      const visible = actor.role === 'admin' ? all : all.filter((r) => decideUse(actor, r.connection).allowed);
      return Promise.all(visible.map(viewOf));
    },

    async listUsable(actor: Principal): Promise<ConnectionView[]> {
      const all = await store.list();
      return Promise.all(all.filter((r) => decideUse(actor, r.connection).allowed).map(viewOf));
    },

    /**
     * The connection `actor` wants to use. A connection that does not exist and one the actor may not use
     * answer alike (404), except to admins, who learn it exists but is not usable by them (403).
     */
    async resolveForUse(actor: Principal, name: string): Promise<ConnectionRecord> {
      let r = records.get(name);
      if (r === undefined) {
        r = await store.find(name);
        if (r === undefined) throw hidden(name);
        records.set(name, r);
      }
      const use = decideUse(actor, r.connection);
      if (!use.allowed) {
        if (actor.role === 'admin') throw permissionDenied(use.code, use.reason, { details: { connection: name } });
        throw hidden(name);
      }
      return r;
    },

    async setMyKeypair(actor: Principal, name: string, keypair: { accessKeyId: string; secretAccessKey: string }) {
      const r = await this.resolveForUse(actor, name);
      if (r.connection.mode !== 'per-user-keypair') {
        throw invalidInput('connection.not_per_user', `connection "${name}" does not use per-user keypairs`);
      }
      if (!/^[A-Za-z0-9]{3,128}$/.test(keypair.accessKeyId) || keypair.secretAccessKey.length < 1) {
        throw invalidInput('keypair.invalid', 'accessKeyId must be letters and digits and secretAccessKey non-empty');
      }
      await vault.put(userKeypairId(actor.userId, name), keypair, nowIso());
    },

    async deleteMyKeypair(actor: Principal, name: string): Promise<void> {
      if (!(await vault.delete(userKeypairId(actor.userId, name)))) {
        throw notFound('keypair.not_found', `no keypair stored for connection "${name}"`);
      }
    },

    async myKeypair(actor: Principal, name: string): Promise<{ accessKeyId: string } | undefined> {
      await this.resolveForUse(actor, name);
      const kp = await vault.get(userKeypairId(actor.userId, name));
      return kp && { accessKeyId: kp.accessKeyId };
    },
  };
}
