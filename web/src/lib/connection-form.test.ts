import { describe, expect, it } from 'vitest';
import { admits, connectionFormFrom, connectionInputFrom, emptyConnectionForm } from './connection-form';
import type { ConnectionView } from './types';

const view: ConnectionView = {
  name: 's3-sales',
  description: 'Sales',
  bucket: 'datalake',
  path: 'sales/',
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:7480',
  forcePathStyle: true,
  useBucketRegion: false,
  readOnly: false,
  credentials: {
    mode: 'assume-role',
    roleArn: '${adminProperty:salesRole}',
    externalIdSet: true,
    durationSeconds: 3600,
    master: 'environment',
  },
  usableBy: 'everyone',
  detailsReadableBy: { groups: ['engineers', 'data'] },
  signingAllowedBy: { groups: ['data'] },
  allowedRoles: ['arn:aws:iam::*:role/sales-*'],
  sessionNameTemplate: 'rg-${connection}-for-${user}',
  version: 3,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

describe('connection form', () => {
  it('round-trips a connection into the request body, secrets left out unless typed', () => {
    expect(connectionInputFrom(connectionFormFrom(view))).toEqual({
      name: 's3-sales',
      description: 'Sales',
      bucket: 'datalake',
      path: 'sales/',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:7480',
      stsEndpoint: undefined,
      forcePathStyle: true,
      useBucketRegion: false,
      readOnly: false,
      credentials: {
        mode: 'assume-role',
        roleArn: '${adminProperty:salesRole}',
        externalId: undefined,
        durationSeconds: 3600,
        master: 'environment',
      },
      usableBy: 'everyone',
      detailsReadableBy: { groups: ['engineers', 'data'] },
      signingAllowedBy: { groups: ['data'] },
      allowedRoles: ['arn:aws:iam::*:role/sales-*'],
      sessionNameTemplate: 'rg-${connection}-for-${user}',
    });
  });

  it('sends only the fields of the chosen mode, and a non-number duration as null for the API to name', () => {
    const form = { ...emptyConnectionForm(), name: 'k', bucket: 'b-b-b', mode: 'keypair' as const };
    expect(connectionInputFrom({ ...form, accessKeyId: ' AKID ', secretAccessKey: 's' }).credentials).toEqual({
      mode: 'keypair',
      accessKeyId: 'AKID',
      secretAccessKey: 's',
    });
    expect(connectionInputFrom({ ...form, mode: 'environment', roleArn: 'x' }).credentials).toEqual({
      mode: 'environment',
    });
    const body = connectionInputFrom({ ...form, mode: 'assume-role', roleArn: 'r', durationSeconds: 'soon' });
    expect(JSON.parse(JSON.stringify(body)).credentials.durationSeconds).toBeNull();
  });

  it('shows a connection stored without signingAllowedBy as nobody, and sends it', () => {
    const { signingAllowedBy: _omitted, ...older } = view;
    expect(connectionFormFrom(older).signingAllowedBy).toBe('nobody');
    expect(connectionInputFrom(connectionFormFrom(older)).signingAllowedBy).toBe('nobody');
  });

  it('admits the fast path by rule and groups', () => {
    expect(admits('everyone', [])).toBe(true);
    expect(admits('nobody', ['x'])).toBe(false);
    expect(admits({ groups: ['a', 'b'] }, ['b'])).toBe(true);
    expect(admits({ groups: ['a'] }, ['b'])).toBe(false);
  });
});
