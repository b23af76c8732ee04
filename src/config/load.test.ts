import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import { loadConfig, parseConfig } from './load.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rolegate-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function yamlFile(text: string): string {
  const file = join(dir, 'rolegate.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('applies the defaults when there is neither a file nor an environment override', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8630, bodyLimitBytes: 1024 * 1024, drainSeconds: 30 });
    expect(config.dataDir).toBe('./.rolegate');
    expect(config.database).toEqual({});
    expect(config.secretKeyFile).toBeUndefined();
    expect(config.log.level).toBe('info');
    expect(config.credentials).toEqual({
      refreshAheadSeconds: 300,
      cacheMaxEntries: 10_000,
      stsTimeoutMs: 5_000,
      stsMaxAttempts: 3,
    });
  });

  it('reads a YAML file and fills in defaults it leaves out', () => {
    const file = yamlFile(
      [
        'server:',
        '  host: 0.0.0.0',
        '  port: 9000',
        'dataDir: /var/lib/rolegate',
        'database:',
        '  url: sqlite:/var/lib/rolegate/db.sqlite',
        'log:',
        '  level: debug',
        'credentials:',
        '  refreshAheadSeconds: 120',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: {} });
    expect(config.server).toEqual({ host: '0.0.0.0', port: 9000, bodyLimitBytes: 1024 * 1024, drainSeconds: 30 });
    expect(config.dataDir).toBe('/var/lib/rolegate');
    expect(config.database.url).toBe('sqlite:/var/lib/rolegate/db.sqlite');
    expect(config.log.level).toBe('debug');
    expect(config.credentials.refreshAheadSeconds).toBe(120);
    expect(config.credentials.stsMaxAttempts).toBe(3);
  });

  it('takes the file from ROLEGATE_CONFIG when no file is passed', () => {
    const file = yamlFile('dataDir: /from-env-file\n');
    expect(loadConfig({ env: { ROLEGATE_CONFIG: file } }).dataDir).toBe('/from-env-file');
  });

  it('treats an empty file as no settings', () => {
    const file = yamlFile('');
    expect(loadConfig({ file, env: {} }).server.port).toBe(8630);
  });

  it('lets environment variables override the file', () => {
    const file = yamlFile('server:\n  host: 10.0.0.1\n  port: 9000\nlog:\n  level: warn\n');
    const config = loadConfig({
      file,
      env: {
        ROLEGATE_PORT: '9443',
        ROLEGATE_PUBLIC_URL: 'https://rolegate.example.com',
        ROLEGATE_DATA_DIR: '/data',
        ROLEGATE_DATABASE_URL: 'postgres://db/rolegate',
        ROLEGATE_SECRET_KEY_FILE: '/keys/vault.key',
        ROLEGATE_LOG_LEVEL: 'error',
      },
    });
    expect(config.server.port).toBe(9443);
    expect(config.server.host).toBe('10.0.0.1');
    expect(config.server.publicUrl).toBe('https://rolegate.example.com');
    expect(config.dataDir).toBe('/data');
    expect(config.database.url).toBe('postgres://db/rolegate');
    expect(config.secretKeyFile).toBe('/keys/vault.key');
    expect(config.log.level).toBe('error');
  });

  it('applies environment overrides without a file, and ignores empty variables', () => {
    const config = loadConfig({ env: { ROLEGATE_HOST: '::1', ROLEGATE_PORT: '', ROLEGATE_DATA_DIR: '' } });
    expect(config.server.host).toBe('::1');
    expect(config.server.port).toBe(8630);
    expect(config.dataDir).toBe('./.rolegate');
  });

  it('refuses a non-numeric ROLEGATE_PORT, naming the variable', () => {
    const e = caught(() => loadConfig({ env: { ROLEGATE_PORT: 'eighty' } }));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain('ROLEGATE_PORT');
  });

  it('refuses an out-of-range ROLEGATE_PORT, naming server.port', () => {
    const e = caught(() => loadConfig({ env: { ROLEGATE_PORT: '70000' } }));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain('server.port');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.credentials)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.server.port).toBe(8630);
  });

  it('refuses an unknown top-level key, naming it', () => {
    const file = yamlFile('dataDir: /x\nsecretKey: hunter2\n');
    const e = caught(() => loadConfig({ file, env: {} }));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain('secretKey');
  });

  it('refuses an unknown nested key, naming it and its parent', () => {
    const file = yamlFile('server:\n  port: 9000\n  tls: true\n');
    const e = caught(() => loadConfig({ file, env: {} }));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain('tls');
    expect(e.message).toContain('server');
  });

  it('refuses a value of the wrong type, naming the key path', () => {
    const file = yamlFile('server:\n  port: "not a number"\n');
    const e = caught(() => loadConfig({ file, env: {} }));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toMatch(/server\.port: /);
  });

  it('refuses an unknown log level, naming log.level', () => {
    const file = yamlFile('log:\n  level: loud\n');
    expect(caught(() => loadConfig({ file, env: {} })).message).toContain('log.level');
  });

  it('refuses invalid YAML', () => {
    const file = yamlFile('server:\n  port: [1, 2\n');
    const e = caught(() => loadConfig({ file, env: {} }));
    expect(e.code).toBe('config.invalid_yaml');
    expect(e.message).toContain(file);
  });

  it('refuses a file whose top level is not a mapping', () => {
    for (const text of ['- a\n- b\n', 'just a string\n', '42\n']) {
      const file = yamlFile(text);
      const e = caught(() => loadConfig({ file, env: {} }));
      expect(e.code).toBe('config.invalid');
      expect(e.message).toContain('mapping');
    }
  });

  it('refuses a file that cannot be read', () => {
    const e = caught(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }));
    expect(e.code).toBe('config.unreadable');
  });
});

describe('parseConfig', () => {
  it('validates an in-memory object the same way', () => {
    expect(parseConfig({ server: { port: 1234 } }).server.port).toBe(1234);
    expect(caught(() => parseConfig({ credentials: { stsMaxAttempts: 0 } })).message).toContain(
      'credentials.stsMaxAttempts',
    );
  });
});
