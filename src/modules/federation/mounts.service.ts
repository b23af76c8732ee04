import type { Principal } from '../../domain/model.js';
import { isRoleArn } from '../../domain/role-arn.js';
import { invalidInput, notFound } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, withRequestFacts } from '../audit/audited-credentials.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { DataService, Listing, ObjectStream } from '../data/data.service.js';
import { requireAdmin } from '../identity/identity.service.js';
import type { FederationStore, MountRecord } from './federation.store.js';
import type { SessionsService } from './sessions.service.js';

const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MAX_SEGMENTS = 8;

/** `/mnt/hr/`, `hr`, `mnt/hr` → `hr`; refuses anything but lower-case segments. */
export function canonicalMountPath(path: string): string {
  const segments = path.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  if (segments[0] === 'mnt') segments.shift();
  if (segments.length === 0 || segments.length > MAX_SEGMENTS || !segments.every((s) => SEGMENT.test(s))) {
    throw invalidInput('mount.invalid_path', `mount path: 1–${MAX_SEGMENTS} segments of [a-z0-9._-], e.g. /mnt/hr`);
  }
  return segments.join('/');
}

function canonicalPrefix(prefix: string): string {
  if (prefix === '') return '';
  const segments = prefix.split('/');
  const ok = prefix.endsWith('/') && segments.slice(0, -1).every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) throw invalidInput('mount.invalid_prefix', 'mount prefix: empty, or folders ending in "/" (no "..")');
  return prefix;
}

export interface MountsServiceDeps {
  readonly store: Pick<FederationStore, 'createMount' | 'listMounts' | 'deleteMount'>;
  readonly connections: Pick<ConnectionsService, 'resolveForUse'>;
  readonly sessions: Pick<SessionsService, 'entitledRoles'>;
  readonly data: Pick<DataService, 'list' | 'get'>;
  readonly trail: Pick<AuditTrail, 'record'>;
  readonly clock: Clock;
}

export type MountsService = ReturnType<typeof createMountsService>;

/**
 * Mounts: a rolegate path bound to a connection + prefix, optionally to a role. A mount's role is used as
 * the `${sessionRole}` of its connection, so one client reads mounts needing different roles side by side.
 * A user who may not assume the role (or use the connection) does not see the mount at all.
 */
export function createMountsService(deps: MountsServiceDeps) {
  async function visibleTo(actor: Principal): Promise<MountRecord[]> {
    const roles = new Set((await deps.sessions.entitledRoles(actor)).map((r) => r.roleArn));
    const mounts = (await deps.store.listMounts()).filter((m) => m.roleArn === null || roles.has(m.roleArn));
    const usable = await Promise.all(
      mounts.map((m) =>
        deps.connections.resolveForUse(actor, m.connection).then(
          () => true,
          () => false,
        ),
      ),
    );
    return mounts.filter((_, i) => usable[i]);
  }

  /** The mount with the longest path that contains `path`, and the rest of the path under it. */
  async function resolve(actor: Principal, path: string): Promise<{ mount: MountRecord; rest: string }> {
    const clean = path.replace(/^\/+/, '');
    const started = performance.now();
    const facts = withRequestFacts(actor, { action: 'mount.resolve', details: { path: clean.slice(0, 256) } });
    try {
      const all = await visibleTo(actor);
      const match = all
        .filter((m) => clean === m.path || clean.startsWith(`${m.path}/`))
        .sort((a, b) => b.path.length - a.path.length)[0];
      if (match === undefined) throw notFound('mount.not_found', `no mount at /mnt/${clean.split('/')[0] ?? ''}`);
      await deps.trail.record({
        ...facts,
        connection: match.connection,
        roleArn: match.roleArn ?? undefined,
        outcome: 'allowed',
        details: { ...facts.details, mount: match.path },
        durationMs: performance.now() - started,
      });
      return { mount: match, rest: clean.slice(match.path.length).replace(/^\//, '') };
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'mount.not_found')) throw error;
      await deps.trail.record({ ...facts, ...outcomeOf(error), durationMs: performance.now() - started });
      throw error;
    }
  }

  /** The caller as the mount's connection should see them: with the mount's role as the session role. */
  function principalFor(actor: Principal, mount: MountRecord): Principal {
    if (mount.roleArn === null) return actor;
    // A distinct session id per (caller session, mount): role sessions are never shared beyond it.
    const id = `${actor.session?.id ?? actor.userId}#mnt:${mount.path}`;
    return Object.freeze({ ...actor, session: Object.freeze({ id, roleArn: mount.roleArn }) });
  }

  return {
    async create(
      actor: Principal,
      input: {
        path: string;
        connection: string;
        prefix?: string | undefined;
        roleArn?: string | undefined;
        description?: string | undefined;
      },
    ): Promise<MountRecord> {
      requireAdmin(actor);
      if (input.roleArn !== undefined && !isRoleArn(input.roleArn)) {
        throw invalidInput('mount.invalid_role', 'mount role: must be a role ARN');
      }
      const mount: MountRecord = {
        path: canonicalMountPath(input.path),
        connection: input.connection,
        prefix: canonicalPrefix(input.prefix ?? ''),
        roleArn: input.roleArn ?? null,
        description: input.description ?? '',
        createdAt: new Date(deps.clock.now()).toISOString(),
      };
      const { connection } = await deps.connections.resolveForUse(actor, input.connection);
      if (mount.roleArn !== null && !(connection.assumeRole?.roleArn ?? '').includes('${sessionRole}')) {
        throw invalidInput(
          'mount.role_needs_session_role',
          `connection "${input.connection}" does not take its role from \${sessionRole}, so a mount cannot bind one`,
        );
      }
      await deps.store.createMount(mount);
      return mount;
    },

    async delete(actor: Principal, path: string): Promise<void> {
      requireAdmin(actor);
      const canonical = canonicalMountPath(path);
      if (!(await deps.store.deleteMount(canonical)))
        throw notFound('mount.not_found', `no mount at /mnt/${canonical}`);
    },

    /** The mounts the caller can see: no role, or a role they are entitled to, on a connection they may use. */
    visibleTo,

    /**
     * Where a path under /mnt leads, for callers that do their own S3-shaped reads (the gateway's `mnt` bucket):
     * the mount (longest prefix, visible to the caller, audited as `mount.resolve`), the rest of the path under
     * it, and the principal to use on the mount's connection (with the mount's role as the session role).
     */
    async open(actor: Principal, path: string): Promise<{ mount: MountRecord; rest: string; principal: Principal }> {
      const { mount, rest } = await resolve(actor, path);
      return { mount, rest, principal: principalFor(actor, mount) };
    },

    /** Lists a folder under /mnt: keys and folders relative to the mount. */
    async list(actor: Principal, path: string, options: { cursor?: string | undefined } = {}): Promise<Listing> {
      if (path.replace(/^\/+/, '') === '') {
        // The root of /mnt: one folder per top-level segment of the mounts the caller can see.
        const tops = new Set((await visibleTo(actor)).map((m) => `${m.path.split('/')[0]}/`));
        return { prefix: '', folders: [...tops].sort(), objects: [] };
      }
      const { mount, rest } = await resolve(actor, path.endsWith('/') || path === '' ? path : `${path}/`);
      const folder = rest === '' ? '' : rest.endsWith('/') ? rest : `${rest}/`;
      const listing = await deps.data.list(principalFor(actor, mount), mount.connection, {
        prefix: `${mount.prefix}${folder}`,
        cursor: options.cursor,
      });
      const strip = (k: string) => k.slice(mount.prefix.length);
      return {
        ...listing,
        prefix: folder,
        folders: listing.folders.map(strip),
        objects: listing.objects.map((o) => ({ ...o, key: strip(o.key) })),
      };
    },

    /** Reads an object under /mnt with the mount's role. */
    async get(actor: Principal, path: string, range?: string | undefined): Promise<ObjectStream> {
      const { mount, rest } = await resolve(actor, path);
      if (rest === '' || rest.endsWith('/')) throw notFound('object.not_found', 'no object at this path');
      return deps.data.get(principalFor(actor, mount), mount.connection, `${mount.prefix}${rest}`, range);
    },
  };
}
