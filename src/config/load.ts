import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { invalidInput } from '../errors/errors.js';
import { configSchema, type RolegateConfig } from './schema.js';

/** Environment variables that override the file, as [variable, config path, kind]. */
const ENV_OVERRIDES: ReadonlyArray<readonly [string, readonly string[], 'string' | 'number']> = [
  ['ROLEGATE_HOST', ['server', 'host'], 'string'],
  ['ROLEGATE_PORT', ['server', 'port'], 'number'],
  ['ROLEGATE_PUBLIC_URL', ['server', 'publicUrl'], 'string'],
  ['ROLEGATE_DATA_DIR', ['dataDir'], 'string'],
  ['ROLEGATE_DATABASE_URL', ['database', 'url'], 'string'],
  ['ROLEGATE_SECRET_KEY_FILE', ['secretKeyFile'], 'string'],
  ['ROLEGATE_LOG_LEVEL', ['log', 'level'], 'string'],
  ['ROLEGATE_GATEWAY_HOST', ['gateway', 'host'], 'string'],
  ['ROLEGATE_GATEWAY_PORT', ['gateway', 'port'], 'number'],
];

type Json = Record<string, unknown>;

function setPath(target: Json, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1] as string] = value;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Builds the frozen configuration from an optional YAML file and the environment.
 * Errors name the bad key, e.g. `invalid configuration: server.port: expected number`.
 */
export function loadConfig(options: { file?: string | undefined; env?: NodeJS.ProcessEnv } = {}): RolegateConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.ROLEGATE_CONFIG;
  let raw: Json = {};
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw invalidInput('config.unreadable', `cannot read configuration file ${file}`, { cause });
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (cause) {
      throw invalidInput('config.invalid_yaml', `configuration file ${file} is not valid YAML`, { cause });
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw invalidInput('config.invalid', `configuration file ${file} must hold a mapping at the top level`);
      }
      raw = parsed as Json;
    }
  }
  for (const [variable, path, kind] of ENV_OVERRIDES) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n))
        throw invalidInput('config.invalid', `invalid configuration: ${variable} must be a number`);
      setPath(raw, path, n);
    } else {
      setPath(raw, path, value);
    }
  }
  return parseConfig(raw);
}

/** Validates an in-memory configuration object (used by tests and `loadConfig`). */
export function parseConfig(raw: unknown): RolegateConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw invalidInput('config.invalid', `invalid configuration: ${describeIssues(result.error)}`);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
