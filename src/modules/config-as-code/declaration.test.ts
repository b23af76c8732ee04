import { describe, expect, it } from 'vitest';
import { formatError, resolveReferences, validateConfigFile } from './declaration.js';

const valid = {
  groups: [{ name: 'analysts' }],
  users: [{ username: 'alice', groups: ['analysts'], properties: { awsRole: 'env:ALICE_ROLE' } }],
  connections: [
    {
      name: 's3-sales',
      bucket: 'sales',
      credentials: { mode: 'keypair', accessKeyId: 'AKIA1', secretAccessKey: 'file:/run/secrets/sales' },
    },
  ],
  mounts: [{ path: '/mnt/sales', connection: 's3-sales' }],
};

describe('validateConfigFile', () => {
  it('accepts a valid file and fills the API defaults', () => {
    const r = validateConfigFile(valid);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.prune).toBe(false);
    expect(r.value.users[0]?.role).toBe('analyst');
    expect(r.value.connections[0]?.region).toBe('us-east-1');
  });

  it('reports every error at once, each with its path in the file', () => {
    const r = validateConfigFile({
      prune: 'yes',
      groups: [{ name: 'analysts' }, { name: 'analysts' }, { name: 'bad name!' }],
      users: [
        { username: 'Alice', role: 'root' },
        { username: 'bob', properties: { awsRole: 'arn:aws:iam::1:role/inline', 'bad name': 'env:X' } },
      ],
      connections: [
        { name: 'ok', bucket: 'b', credentials: { mode: 'environment' } },
        {
          name: 'x',
          bucket: 'b',
          credentials: { mode: 'assume-role', roleArn: 'arn', durationSeconds: 'long', secretAccessKey: 'inline' },
        },
      ],
      mounts: [{ path: '/mnt/a' }],
      extra: 1,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const lines = r.errors.map(formatError);
    const paths = r.errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'prune',
        'groups[1].name',
        'groups[2].name',
        'users[0].username',
        'users[0].role',
        'users[1].properties.awsRole',
        'users[1].properties.bad name',
        'connections[1].credentials.durationSeconds',
        'connections[1].credentials.secretAccessKey',
        'mounts[0].connection',
      ]),
    );
    expect(lines.find((l) => l.startsWith('users[1].properties.awsRole:'))).toContain(
      'never put a value or secret inline',
    );
    expect(lines.find((l) => l.startsWith('groups[1].name:'))).toContain('already declared at groups[0]');
    expect(lines.some((l) => l.includes('extra'))).toBe(true);
    // The inline value is not echoed back in any message.
    expect(lines.join('\n')).not.toContain('arn:aws:iam::1:role/inline');
  });

  it('refuses inline connection secrets', () => {
    const r = validateConfigFile({
      connections: [
        { name: 'k', bucket: 'b', credentials: { mode: 'keypair', accessKeyId: 'A', secretAccessKey: 's3cr3t' } },
      ],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['connections[0].credentials.secretAccessKey']);
  });
});

describe('resolveReferences', () => {
  it('replaces env: and file: references with their values', () => {
    const file = validateConfigFile(valid);
    if (!file.ok) throw new Error('fixture');
    const r = resolveReferences(file.value, {
      env: { ALICE_ROLE: 'arn:aws:iam::1:role/a' },
      readFile: (p) => (p === '/run/secrets/sales' ? 'SECRET\n' : ''),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.users[0]?.properties).toEqual({ awsRole: 'arn:aws:iam::1:role/a' });
    expect(r.value.connections[0]?.credentials).toMatchObject({ secretAccessKey: 'SECRET' });
  });

  it('reports every unresolvable reference with its path', () => {
    const file = validateConfigFile(valid);
    if (!file.ok) throw new Error('fixture');
    const r = resolveReferences(file.value, {
      env: {},
      readFile: () => {
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map(formatError)).toEqual([
      'users[0].properties.awsRole: environment variable ALICE_ROLE is not set',
      'connections[0].credentials.secretAccessKey: cannot read file /run/secrets/sales: ENOENT',
    ]);
  });
});
