import type { Connection, UserRole } from '../../domain/model.js';

/** The state config as code compares: what is declared (resolved, normalized) or what the store holds. */
export interface ConfigState {
  readonly groups: readonly { readonly name: string; readonly description: string }[];
  readonly users: readonly {
    readonly username: string;
    readonly role: UserRole;
    readonly groups: readonly string[];
    readonly properties: Readonly<Record<string, string>>;
  }[];
  /** `secretAccessKey` undefined in a declaration keeps the stored secret (as the connection API does). */
  readonly connections: readonly { readonly connection: Connection; readonly secretAccessKey?: string | undefined }[];
  /** Canonical paths (`hr/payroll`, no `/mnt/`). */
  readonly mounts: readonly {
    readonly path: string;
    readonly connection: string;
    readonly prefix: string;
    readonly roleArn: string | null;
    readonly description: string;
  }[];
}

export type ChangeKind = 'group' | 'user' | 'membership' | 'property' | 'connection' | 'mount';
export type ChangeAction = 'create' | 'update' | 'delete';

/** One change; `fields` names what an update changes (never a value: values may be secrets). */
export interface Change {
  readonly kind: ChangeKind;
  readonly action: ChangeAction;
  /** `alice`, `analysts/alice` (membership), `alice/awsRole` (property), `hr/payroll` (mount). */
  readonly name: string;
  readonly fields?: string[];
}

export interface ConfigDiff {
  /** In the order they are applied: creations and updates first, then deletions, dependents before what they need. */
  readonly changes: Change[];
  /** Declared things that are already as declared. */
  readonly unchanged: number;
}

/** A JSON rendering with keys sorted and undefined dropped: equal models render equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** Top-level fields (and `target.*`) in which two connection models differ. */
function connectionFields(a: Connection, b: Connection): string[] {
  const flat = (c: Connection): Record<string, unknown> => {
    const { target, ...rest } = c;
    return { ...rest, ...Object.fromEntries(Object.entries(target).map(([k, v]) => [`target.${k}`, v])) };
  };
  const fa = flat(a);
  const fb = flat(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])]
    .filter((k) => canonical(fa[k]) !== canonical(fb[k]))
    .sort();
}

/**
 * What applying `desired` to `current` changes. Undeclared things are deleted only with `prune`; a declared
 * user's memberships are exactly its `groups`.
 */
export function diffConfig(desired: ConfigState, current: ConfigState, prune: boolean): ConfigDiff {
  const first: Change[] = [];
  const last: Change[] = [];
  let unchanged = 0;
  const byName = <T, K>(items: readonly T[], key: (t: T) => K) => new Map(items.map((t) => [key(t), t]));

  const groups = byName(current.groups, (g) => g.name);
  for (const g of desired.groups) {
    const now = groups.get(g.name);
    if (now === undefined) first.push({ kind: 'group', action: 'create', name: g.name });
    else if (now.description !== g.description)
      first.push({ kind: 'group', action: 'update', name: g.name, fields: ['description'] });
    else unchanged++;
  }

  const users = byName(current.users, (u) => u.username);
  const memberships: Change[] = [];
  const properties: Change[] = [];
  const leftMemberships: Change[] = [];
  const leftProperties: Change[] = [];
  for (const u of desired.users) {
    const now = users.get(u.username);
    if (now === undefined) first.push({ kind: 'user', action: 'create', name: u.username });
    else if (now.role !== u.role) first.push({ kind: 'user', action: 'update', name: u.username, fields: ['role'] });
    else unchanged++;
    const had = new Set(now?.groups ?? []);
    for (const g of u.groups) {
      if (had.has(g)) unchanged++;
      else memberships.push({ kind: 'membership', action: 'create', name: `${g}/${u.username}` });
    }
    for (const g of had) {
      if (!u.groups.includes(g))
        leftMemberships.push({ kind: 'membership', action: 'delete', name: `${g}/${u.username}` });
    }
    const props = now?.properties ?? {};
    for (const [name, value] of Object.entries(u.properties)) {
      const old = props[name];
      if (old === undefined) properties.push({ kind: 'property', action: 'create', name: `${u.username}/${name}` });
      else if (old !== value)
        properties.push({ kind: 'property', action: 'update', name: `${u.username}/${name}`, fields: ['value'] });
      else unchanged++;
    }
    if (prune) {
      for (const name of Object.keys(props)) {
        if (!(name in u.properties))
          leftProperties.push({ kind: 'property', action: 'delete', name: `${u.username}/${name}` });
      }
    }
  }
  first.push(...memberships, ...properties);

  const connections = byName(current.connections, (c) => c.connection.name);
  for (const c of desired.connections) {
    const now = connections.get(c.connection.name);
    if (now === undefined) {
      first.push({ kind: 'connection', action: 'create', name: c.connection.name });
      continue;
    }
    const fields = connectionFields(now.connection, c.connection);
    if (c.secretAccessKey !== undefined && c.secretAccessKey !== now.secretAccessKey) {
      fields.push('credentials.secretAccessKey');
    }
    if (fields.length > 0) first.push({ kind: 'connection', action: 'update', name: c.connection.name, fields });
    else unchanged++;
  }

  // Mounts cannot be changed in place: an update is a replacement, so deletions of mounts come first.
  const mounts = byName(current.mounts, (m) => m.path);
  const declaredMounts = new Set(desired.mounts.map((m) => m.path));
  if (prune) {
    for (const m of current.mounts) {
      if (!declaredMounts.has(m.path)) first.push({ kind: 'mount', action: 'delete', name: m.path });
    }
  }
  for (const m of desired.mounts) {
    const now = mounts.get(m.path);
    if (now === undefined) {
      first.push({ kind: 'mount', action: 'create', name: m.path });
      continue;
    }
    const fields = (['connection', 'prefix', 'roleArn', 'description'] as const).filter((k) => now[k] !== m[k]);
    if (fields.length > 0) first.push({ kind: 'mount', action: 'update', name: m.path, fields });
    else unchanged++;
  }

  last.push(...leftMemberships, ...leftProperties);
  if (prune) {
    const declared = <T>(items: readonly T[], key: (t: T) => string) => new Set(items.map(key));
    const conns = declared(desired.connections, (c) => c.connection.name);
    const names = declared(desired.users, (u) => u.username);
    const groupNames = declared(desired.groups, (g) => g.name);
    for (const c of current.connections) {
      if (!conns.has(c.connection.name)) last.push({ kind: 'connection', action: 'delete', name: c.connection.name });
    }
    for (const u of current.users) {
      if (!names.has(u.username)) last.push({ kind: 'user', action: 'delete', name: u.username });
    }
    for (const g of current.groups) {
      if (!groupNames.has(g.name)) last.push({ kind: 'group', action: 'delete', name: g.name });
    }
  }
  return { changes: [...first, ...last], unchanged };
}
