import { z } from 'zod';
import { connectionInputSchema } from '../connections/connection-input.js';
import { GROUP_NAME, PROPERTY_NAME, USERNAME } from '../identity/identity.service.js';

/**
 * The declarative file (`rolegate apply -f rolegate.yaml`) and the resolved document the CLI sends to the
 * server. They differ in one thing only: in the file, property values and connection secrets are
 * references (`env:NAME`, `file:/path`), resolved on the machine that runs `apply`; the server never sees a
 * reference and the file never holds a secret.
 */

/** `env:NAME` or `file:/path`: the only way a value or secret may appear in the file. */
export const REFERENCE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;
const reference = z
  .string()
  .regex(REFERENCE, { error: 'must be a reference (env:NAME or file:/path): never put a value or secret inline' });
const resolvedValue = z.string().min(1).max(2048);

const groupSchema = z
  .object({
    name: z.string().regex(GROUP_NAME, { error: 'group name: 1–64 letters, digits and ._-' }),
    description: z.string().max(1000).default(''),
  })
  .strict();

const mountSchema = z
  .object({
    path: z.string().max(512),
    connection: z.string(),
    prefix: z.string().max(1024).default(''),
    roleArn: z.string().max(2048).optional(),
    description: z.string().max(1000).default(''),
  })
  .strict();

function userSchema<V extends z.ZodType<string>>(value: V) {
  return z
    .object({
      username: z.string().regex(USERNAME, {
        error: 'username: 1–64 lower-case letters, digits and ._@- starting with one of the first two',
      }),
      role: z.enum(['admin', 'analyst']).default('analyst'),
      /** The user's memberships, exactly: groups not listed here are left. */
      groups: z.array(z.string()).default([]),
      /** Admin properties; a value is a reference in the file, the resolved value over the API. */
      properties: z
        .record(z.string().regex(PROPERTY_NAME, { error: 'property name: 1–64 letters, digits and _.-' }), value)
        .default({}),
    })
    .strict();
}

// The connection API input, with the secret access key as a reference in the file.
const [environmentMode, keypairMode, perUserMode, assumeRoleMode] = connectionInputSchema.shape.credentials.options;
const fileConnectionSchema = connectionInputSchema.extend({
  credentials: z.discriminatedUnion('mode', [
    environmentMode,
    keypairMode.extend({ secretAccessKey: reference.optional() }),
    perUserMode,
    assumeRoleMode.extend({ secretAccessKey: reference.optional() }),
  ]),
});

function documentSchema<U extends z.ZodType, C extends z.ZodType>(user: U, connection: C) {
  return z
    .object({
      /** Delete what exists but is not declared (groups, users, properties of declared users, connections, mounts). */
      prune: z.boolean().default(false),
      groups: z.array(groupSchema).default([]),
      users: z.array(user).default([]),
      connections: z.array(connection).default([]),
      mounts: z.array(mountSchema).default([]),
    })
    .strict();
}

/** The file as written: values and secrets as references. */
export const configFileSchema = documentSchema(userSchema(reference), fileConnectionSchema);
export type ConfigFile = z.infer<typeof configFileSchema>;

/** The document the server plans and applies: references resolved to values. */
export const desiredStateSchema = documentSchema(userSchema(resolvedValue), connectionInputSchema);
export type DesiredState = z.infer<typeof desiredStateSchema>;
export type DesiredStateInput = z.input<typeof desiredStateSchema>;

/** One problem with the file, located by its path in it: `connections[1].credentials.durationSeconds`. */
export interface DeclarationError {
  readonly path: string;
  readonly message: string;
}

export const formatError = (e: DeclarationError): string => (e.path === '' ? e.message : `${e.path}: ${e.message}`);

/** `['connections', 1, 'credentials']` → `connections[1].credentials`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

const NAMED_LISTS = { groups: 'name', users: 'username', connections: 'name', mounts: 'path' } as const;

/** Names declared twice in one list; checked on the raw document so they are reported beside schema errors. */
function duplicates(raw: unknown): DeclarationError[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const errors: DeclarationError[] = [];
  for (const [list, key] of Object.entries(NAMED_LISTS)) {
    const items = (raw as Record<string, unknown>)[list];
    if (!Array.isArray(items)) continue;
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const name = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[key] : undefined;
      if (typeof name !== 'string') return;
      const canonical = list === 'mounts' ? name.replace(/^\/?(mnt\/)?/, '').replace(/\/+$/, '') : name;
      const first = seen.get(canonical);
      if (first === undefined) seen.set(canonical, i);
      else errors.push({ path: `${list}[${i}].${key}`, message: `"${name}" is already declared at ${list}[${first}]` });
    });
  }
  return errors;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: DeclarationError[] };

function validate<T>(schema: z.ZodType<T>, raw: unknown): Validated<T> {
  const parsed = schema.safeParse(raw);
  const errors = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }))),
    ...duplicates(raw),
  ];
  if (!parsed.success || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: parsed.data };
}

/** Validates a whole file and reports every error with its path; nothing is resolved or applied. */
export const validateConfigFile = (raw: unknown): Validated<ConfigFile> => validate(configFileSchema, raw);

/** Validates a resolved document (what the API receives) the same way. */
export const validateDesiredState = (raw: unknown): Validated<DesiredState> => validate(desiredStateSchema, raw);

export interface ReferenceSources {
  readonly env: NodeJS.ProcessEnv;
  /** Reads a `file:` reference (already resolved against the file's folder); throws when unreadable. */
  readonly readFile: (path: string) => string;
}

/**
 * Replaces every reference of a valid file by its value. Every unresolvable reference is reported with its
 * path; the message names the variable or file, never a value.
 */
export function resolveReferences(file: ConfigFile, sources: ReferenceSources): Validated<DesiredState> {
  const errors: DeclarationError[] = [];
  const resolve = (ref: string, path: string): string => {
    if (ref.startsWith('env:')) {
      const name = ref.slice(4);
      const value = sources.env[name];
      if (value === undefined || value === '')
        errors.push({ path, message: `environment variable ${name} is not set` });
      return value ?? '';
    }
    const location = ref.slice(5);
    try {
      // A trailing newline is how files end, not part of the secret.
      const value = sources.readFile(location).replace(/\r?\n$/, '');
      if (value === '') errors.push({ path, message: `file ${location} is empty` });
      return value;
    } catch (e) {
      errors.push({ path, message: `cannot read file ${location}: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
      return '';
    }
  };
  const users = file.users.map((u, i) => ({
    ...u,
    properties: Object.fromEntries(
      Object.entries(u.properties).map(([name, ref]) => [name, resolve(ref, `users[${i}].properties.${name}`)]),
    ),
  }));
  const connections = file.connections.map((c, i) => {
    const creds = c.credentials;
    if ((creds.mode !== 'keypair' && creds.mode !== 'assume-role') || creds.secretAccessKey === undefined) return c;
    const secret = resolve(creds.secretAccessKey, `connections[${i}].credentials.secretAccessKey`);
    return { ...c, credentials: { ...creds, secretAccessKey: secret } };
  });
  if (errors.length > 0) return { ok: false, errors };
  return validateDesiredState({ ...file, users, connections });
}
