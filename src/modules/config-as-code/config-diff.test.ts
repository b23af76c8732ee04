import { describe, expect, it } from 'vitest';
import type { Connection } from '../../domain/model.js';
import { type ConfigState, diffConfig } from './config-diff.js';

const connection = (name: string, over: Partial<Connection> = {}): Connection => ({
  name,
  description: '',
  target: { region: 'us-east-1', forcePathStyle: false, useBucketRegion: false, bucket: 'b', pathInBucket: '' },
  mode: 'keypair',
  accessKeyId: 'AKIA1',
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'nobody' },
  allowedRoles: [],
  sessionNameTemplate: 'rg-${connection}-for-${user}',
  readOnly: false,
  ...over,
});

const state: ConfigState = {
  groups: [{ name: 'analysts', description: '' }],
  users: [{ username: 'alice', role: 'analyst', groups: ['analysts'], properties: { awsRole: 'r1' } }],
  connections: [{ connection: connection('s3-sales'), secretAccessKey: 'S1' }],
  mounts: [{ path: 'sales', connection: 's3-sales', prefix: '', roleArn: null, description: '' }],
};

describe('diffConfig', () => {
  it('reports no changes when the declaration matches, and counts what is unchanged', () => {
    expect(diffConfig(state, state, true)).toEqual({ changes: [], unchanged: 6 });
  });

  it('creates everything on an empty store, in dependency order', () => {
    const empty: ConfigState = { groups: [], users: [], connections: [], mounts: [] };
    expect(diffConfig(state, empty, false).changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create group analysts',
      'create user alice',
      'create membership analysts/alice',
      'create property alice/awsRole',
      'create connection s3-sales',
      'create mount sales',
    ]);
  });

  it('names the fields an update changes, never their values', () => {
    const desired: ConfigState = {
      groups: [{ name: 'analysts', description: 'the analysts' }],
      users: [{ username: 'alice', role: 'admin', groups: [], properties: { awsRole: 'r2' } }],
      connections: [{ connection: connection('s3-sales', { readOnly: true }), secretAccessKey: 'S2' }],
      mounts: [{ path: 'sales', connection: 's3-sales', prefix: 'x/', roleArn: null, description: '' }],
    };
    const { changes } = diffConfig(desired, state, false);
    expect(changes).toEqual([
      { kind: 'group', action: 'update', name: 'analysts', fields: ['description'] },
      { kind: 'user', action: 'update', name: 'alice', fields: ['role'] },
      { kind: 'property', action: 'update', name: 'alice/awsRole', fields: ['value'] },
      { kind: 'connection', action: 'update', name: 's3-sales', fields: ['readOnly', 'credentials.secretAccessKey'] },
      { kind: 'mount', action: 'update', name: 'sales', fields: ['prefix'] },
      { kind: 'membership', action: 'delete', name: 'analysts/alice' },
    ]);
    expect(JSON.stringify(changes)).not.toContain('r2');
    expect(JSON.stringify(changes)).not.toContain('S2');
  });

  it('keeps a stored secret when the declaration omits it', () => {
    const desired = { ...state, connections: [{ connection: connection('s3-sales') }] };
    expect(diffConfig(desired, state, false).changes).toEqual([]);
  });

  it('deletes undeclared things only with prune, dependents first', () => {
    const desired: ConfigState = {
      groups: [],
      users: [{ username: 'alice', role: 'analyst', groups: [], properties: {} }],
      connections: [],
      mounts: [],
    };
    expect(diffConfig(desired, state, false).changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete membership analysts/alice',
    ]);
    expect(diffConfig(desired, state, true).changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete mount sales',
      'delete membership analysts/alice',
      'delete property alice/awsRole',
      'delete connection s3-sales',
      'delete group analysts',
    ]);
  });
});
