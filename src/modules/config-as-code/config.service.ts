import type { Db } from '../../db/connect.js';
import type { AccessRule, Connection, Principal } from '../../domain/model.js';
import { internal, invalidInput, isRolegateError, RolegateError } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { AccessRuleInput } from '../connections/connection-input.js';
import { createConnectionsService, toConnection } from '../connections/connections.service.js';
import { createConnectionStore } from '../connections/connections.store.js';
import { connectionSecretId, createVaultStore } from '../credentials/vault.store.js';
import { createFederationStore } from '../federation/federation.store.js';
import { canonicalMountPath, createMountsService } from '../federation/mounts.service.js';
import { createIdentityService, requireAdmin } from '../identity/identity.service.js';
import { createIdentityStore } from '../identity/identity.store.js';
import { createConfigStore } from './config.store.js';
import { type Change, type ConfigDiff, type ConfigState, diffConfig } from './config-diff.js';
import { type ConfigFile, type DeclarationError, type DesiredState, formatError } from './declaration.js';

export interface ConfigServiceDeps {
  /** Plans and applies open their own transaction on it; every store is rebuilt over that transaction. */
  readonly db: Db;
  readonly box: SecretBox;
  readonly clock: Clock;
  /** After a commit, for each user whose role, groups or properties changed (drop cached principals and sessions). */
  readonly onUserChanged: (userId: string) => void;
  /** After a commit, for each connection changed or deleted. */
  readonly onConnectionChanged: (name: string) => void;
}

export type ConfigService = ReturnType<typeof createConfigService>;

/** Thrown inside a plan's transaction to roll it back after every change was tried. */
class PlanRollback extends Error {
  constructor(readonly diff: ConfigDiff) {
    super('plan only');
  }
}

const fromRule = (r: AccessRule): AccessRuleInput => (r.kind === 'groups' ? { groups: [...r.groups] } : r.kind);
/** `env:` names the export emits for values it never exports. */
const envName = (...parts: string[]) =>
  `ROLEGATE_${parts
    .join('_')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')}`;
export const secretPlaceholder = (connection: string) => `env:${envName('SECRET', connection)}`;
export const propertyPlaceholder = (username: string, property: string) =>
  `env:${envName('PROPERTY', username, property)}`;

const describe = (c: Change) => `${c.action} ${c.kind} ${c.kind === 'mount' ? `/mnt/${c.name}` : c.name}`;

/** The transaction-bound stores and services one plan or apply works with. */
function bind(tx: Db, deps: ConfigServiceDeps, changed: { users: Set<string>; connections: Set<string> }) {
  const identityStore = createIdentityStore(tx);
  const vault = createVaultStore(tx, deps.box);
  const federation = createFederationStore(tx);
  const identity = createIdentityService({
    store: identityStore,
    clock: deps.clock,
    authCacheTtlMs: 0,
    onUserChanged: (id) => changed.users.add(id),
  });
  const connections = createConnectionsService({
    store: createConnectionStore(tx),
    vault,
    clock: deps.clock,
    cacheTtlMs: 0,
    onConnectionChanged: (name) => changed.connections.add(name),
  });
  // Only `create` and `delete` are used; the reading paths need sessions, data and audit, which applying never does.
  const unused = (): never => {
    throw internal('config.unused_dependency', 'not available while applying configuration');
  };
  const mounts = createMountsService({
    store: federation,
    // An admin declares mounts on connections they may not use themselves: existence is what matters here.
    connections: { resolveForUse: (actor, name) => connections.model(actor, name) },
    sessions: { entitledRoles: unused },
    data: { list: unused, get: unused },
    trail: { record: unused },
    clock: deps.clock,
  });
  return { identityStore, vault, federation, identity, connections, mounts, changed, config: createConfigStore(tx) };
}
type Bound = ReturnType<typeof bind>;

async function currentState(b: Bound): Promise<ConfigState> {
  const users = await b.identityStore.listUsers();
  const connections = await b.connections.list(systemActor);
  return {
    groups: (await b.identityStore.listGroups()).map((g) => ({ name: g.name, description: g.description })),
    users: await Promise.all(
      users.map(async (u) => ({
        username: u.username,
        role: u.role,
        groups: await b.identityStore.groupsOf(u.id),
        properties: await b.identityStore.propertiesOf(u.id),
      })),
    ),
    connections: await Promise.all(
      connections.map(async (view) => {
        const { connection } = await b.connections.model(systemActor, view.name);
        return { connection, secretAccessKey: (await b.vault.get(connectionSecretId(view.name)))?.secretAccessKey };
      }),
    ),
    mounts: (await b.federation.listMounts()).map(({ createdAt: _, ...m }) => m),
  };
}

/** Reads current state on behalf of an already authorized admin. */
const systemActor: Principal = Object.freeze({
  userId: '',
  username: '',
  role: 'admin',
  groups: [],
  adminProperties: {},
});

/** The declared state normalized like the store holds it, and every error found on the way, by path. */
function normalize(desired: DesiredState, current: ConfigState, actor: Principal) {
  const errors: DeclarationError[] = [];
  const connections: ConfigState['connections'][number][] = [];
  desired.connections.forEach((input, i) => {
    try {
      const c = input.credentials;
      connections.push({
        connection: toConnection(input),
        secretAccessKey: c.mode === 'keypair' || c.mode === 'assume-role' ? c.secretAccessKey : undefined,
      });
    } catch (e) {
      if (!isRolegateError(e)) throw e;
      const field = e.details.field;
      const path = typeof field === 'string' ? `connections[${i}].${field}` : `connections[${i}]`;
      const message = typeof field === 'string' ? e.message.replace(`${field}: `, '') : e.message;
      errors.push({ path, message });
    }
  });
  const mounts: ConfigState['mounts'][number][] = [];
  desired.mounts.forEach((m, i) => {
    try {
      mounts.push({
        path: canonicalMountPath(m.path),
        connection: m.connection,
        prefix: m.prefix,
        roleArn: m.roleArn ?? null,
        description: m.description,
      });
    } catch (e) {
      if (!isRolegateError(e)) throw e;
      errors.push({ path: `mounts[${i}].path`, message: e.message });
    }
  });

  // References must hold after the apply: declared, or existing and not pruned.
  const survives = (declared: Iterable<string>, existing: Iterable<string>) =>
    new Set([...declared, ...(desired.prune ? [] : existing)]);
  const groups = survives(
    desired.groups.map((g) => g.name),
    current.groups.map((g) => g.name),
  );
  desired.users.forEach((u, i) => {
    u.groups.forEach((g, j) => {
      if (!groups.has(g)) errors.push({ path: `users[${i}].groups[${j}]`, message: `group "${g}" is not declared` });
    });
  });
  const connectionNames = survives(
    desired.connections.map((c) => c.name),
    current.connections.map((c) => c.connection.name),
  );
  desired.mounts.forEach((m, i) => {
    if (!connectionNames.has(m.connection)) {
      errors.push({ path: `mounts[${i}].connection`, message: `connection "${m.connection}" is not declared` });
    }
  });
  const self = desired.users.findIndex((u) => u.username === actor.username);
  if (desired.prune && self < 0) {
    errors.push({ path: 'users', message: `prune would delete you ("${actor.username}"): declare your own user` });
  }
  if (self >= 0 && desired.users[self]?.role !== 'admin') {
    errors.push({ path: `users[${self}].role`, message: 'you cannot take the admin role from yourself' });
  }
  const state: ConfigState = {
    groups: desired.groups,
    users: desired.users,
    connections,
    mounts,
  };
  return { state, errors };
}

/** Carries out one change with the transaction-bound services. */
async function applyChange(b: Bound, actor: Principal, desired: DesiredState, change: Change): Promise<void> {
  const { identity, connections, mounts } = b;
  const [left, right = ''] = change.name.split('/');
  switch (change.kind) {
    case 'group': {
      const g = desired.groups.find((x) => x.name === change.name);
      if (change.action === 'delete') return identity.deleteGroup(actor, change.name);
      if (g === undefined) throw internal('config.plan_mismatch', `no declared group ${change.name}`);
      if (change.action === 'create') return void (await identity.createGroup(actor, g));
      return b.config.setGroupDescription(g.name, g.description);
    }
    case 'user': {
      const u = desired.users.find((x) => x.username === change.name);
      if (change.action === 'delete') return identity.deleteUser(actor, change.name);
      if (u === undefined) throw internal('config.plan_mismatch', `no declared user ${change.name}`);
      if (change.action === 'create') return void (await identity.createUser(actor, u));
      const record = await b.identityStore.findUserByName(u.username);
      if (record === undefined) throw internal('config.plan_mismatch', `user ${u.username} vanished`);
      await b.config.setUserRole(record.id, u.role);
      b.changed.users.add(record.id);
      return;
    }
    case 'membership': {
      // `group/username`: group names have no '/', usernames neither.
      const [group = '', username = ''] = [left, right];
      if (change.action === 'delete') return identity.removeMember(actor, group, username);
      return identity.addMember(actor, group, username);
    }
    case 'property': {
      const [username = '', name] = [left, right];
      if (change.action === 'delete') return identity.deleteProperty(actor, username, name);
      const value = desired.users.find((u) => u.username === username)?.properties[name];
      if (value === undefined) throw internal('config.plan_mismatch', `no declared property ${change.name}`);
      return identity.setProperty(actor, username, name, value);
    }
    case 'connection': {
      if (change.action === 'delete') return connections.remove(actor, change.name);
      const input = desired.connections.find((c) => c.name === change.name);
      if (input === undefined) throw internal('config.plan_mismatch', `no declared connection ${change.name}`);
      if (change.action === 'create') return void (await connections.create(actor, input));
      return void (await connections.update(actor, change.name, input));
    }
    case 'mount': {
      if (change.action !== 'create') await mounts.delete(actor, change.name);
      if (change.action === 'delete') return;
      const m = desired.mounts.find((x) => canonicalMountPath(x.path) === change.name);
      if (m === undefined) throw internal('config.plan_mismatch', `no declared mount ${change.name}`);
      return void (await mounts.create(actor, { ...m, path: change.name }));
    }
  }
}

/**
 * Config as code: plan (what would change), apply (all of it in one database transaction, or nothing), export.
 * A plan runs exactly the apply, then rolls it back, so it finds every error an apply would meet.
 */
export function createConfigService(deps: ConfigServiceDeps) {
  async function run(actor: Principal, desired: DesiredState, commit: boolean): Promise<ConfigDiff> {
    requireAdmin(actor);
    const changed = { users: new Set<string>(), connections: new Set<string>() };
    let diff: ConfigDiff;
    try {
      diff = await deps.db.transaction().execute(async (tx) => {
        const bound = bind(tx, deps, changed);
        const current = await currentState(bound);
        const { state, errors } = normalize(desired, current, actor);
        if (errors.length > 0) {
          throw invalidInput(
            'config.invalid',
            `${errors.length} error(s), nothing applied:\n${errors.map(formatError).join('\n')}`,
            { details: { errors: errors.length } },
          );
        }
        const planned = diffConfig(state, current, desired.prune);
        for (const change of planned.changes) {
          try {
            await applyChange(bound, actor, desired, change);
          } catch (e) {
            if (!isRolegateError(e)) throw e;
            throw new RolegateError(e.kind, e.code, `${describe(change)}: ${e.message} (nothing applied)`, {
              cause: e,
              details: e.details,
            });
          }
        }
        if (!commit) throw new PlanRollback(planned);
        return planned;
      });
    } catch (e) {
      if (e instanceof PlanRollback) return e.diff;
      throw e;
    }
    // Only after the commit: other instances and caches must never see a change that was rolled back.
    for (const id of changed.users) deps.onUserChanged(id);
    for (const name of changed.connections) deps.onConnectionChanged(name);
    return diff;
  }

  return {
    /** What applying `desired` would change; nothing is changed. */
    plan: (actor: Principal, desired: DesiredState) => run(actor, desired, false),

    /** Applies `desired` in one transaction; a second apply of the same document changes nothing. */
    apply: (actor: Principal, desired: DesiredState) => run(actor, desired, true),

    /** The current state in the file's format: property values and secrets as `env:` placeholders, never values. */
    async export(actor: Principal): Promise<ConfigFile> {
      requireAdmin(actor);
      const current = await currentState(bind(deps.db, deps, { users: new Set(), connections: new Set() }));
      return {
        prune: false,
        groups: current.groups.map((g) => ({ ...g })),
        users: current.users.map((u) => ({
          username: u.username,
          role: u.role,
          groups: [...u.groups],
          properties: Object.fromEntries(
            Object.keys(u.properties).map((name) => [name, propertyPlaceholder(u.username, name)]),
          ),
        })),
        connections: current.connections.map((c) => exportedConnection(c.connection)),
        mounts: current.mounts.map((m) => ({
          path: `/mnt/${m.path}`,
          connection: m.connection,
          prefix: m.prefix,
          ...(m.roleArn === null ? {} : { roleArn: m.roleArn }),
          description: m.description,
        })),
      };
    },
  };
}

/** A connection as the file declares it; a stored secret becomes a placeholder. */
function exportedConnection(c: Connection): ConfigFile['connections'][number] {
  const t = c.target;
  const secret = secretPlaceholder(c.name);
  const a = c.assumeRole;
  const credentials: ConfigFile['connections'][number]['credentials'] =
    c.mode === 'keypair'
      ? { mode: 'keypair', accessKeyId: c.accessKeyId ?? '', secretAccessKey: secret }
      : c.mode === 'assume-role' && a !== undefined
        ? {
            mode: 'assume-role',
            roleArn: a.roleArn,
            ...(a.externalId === undefined ? {} : { externalId: a.externalId }),
            durationSeconds: a.durationSeconds,
            master: a.master,
            ...(a.master === 'keypair' ? { accessKeyId: c.accessKeyId, secretAccessKey: secret } : {}),
          }
        : c.mode === 'per-user-keypair'
          ? { mode: 'per-user-keypair' }
          : { mode: 'environment' };
  return {
    name: c.name,
    description: c.description,
    bucket: t.bucket,
    path: t.pathInBucket,
    region: t.region,
    ...(t.endpoint === undefined ? {} : { endpoint: t.endpoint }),
    ...(t.stsEndpoint === undefined ? {} : { stsEndpoint: t.stsEndpoint }),
    forcePathStyle: t.forcePathStyle,
    useBucketRegion: t.useBucketRegion,
    readOnly: c.readOnly,
    ...(c.homeDirectories === true ? { homeDirectories: true } : {}),
    credentials,
    usableBy: fromRule(c.usableBy),
    detailsReadableBy: fromRule(c.detailsReadableBy),
    signingAllowedBy: fromRule(c.signingAllowedBy ?? { kind: 'nobody' }),
    allowedRoles: [...c.allowedRoles],
    sessionNameTemplate: c.sessionNameTemplate,
  };
}
