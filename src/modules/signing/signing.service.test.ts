// biome-ignore-all lint/suspicious/noTemplateCurlyInString: connection templates are literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import { chain, GENESIS_HASH } from '../../domain/audit-event.js';
import {
  type Connection,
  DEFAULT_SESSION_NAME_TEMPLATE,
  type Principal,
  type RoleSession,
} from '../../domain/model.js';
import { internal, isRolegateError, notFound } from '../../errors/errors.js';
import type { AuditInput } from '../audit/audit-trail.js';
import { auditSigning } from './audited-signing.js';
import { createSigningService } from './signing.service.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const alice: Principal = {
  userId: 'u-alice',
  username: 'alice',
  role: 'analyst',
  groups: ['data'],
  adminProperties: {},
};
const connection: Connection = {
  name: 's3-sales',
  description: '',
  target: {
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:7480',
    forcePathStyle: true,
    useBucketRegion: false,
    bucket: 'data',
    pathInBucket: 'sales/',
  },
  mode: 'assume-role',
  assumeRole: { roleArn: '${adminProperty:role}', durationSeconds: 3600, master: 'environment' },
  usableBy: { kind: 'everyone' },
  detailsReadableBy: { kind: 'nobody' },
  signingAllowedBy: { kind: 'groups', groups: ['data'] },
  allowedRoles: [],
  sessionNameTemplate: DEFAULT_SESSION_NAME_TEMPLATE,
  readOnly: false,
};

function rig(options: { expiresInMs?: number; failAudit?: boolean; reusableReads?: boolean } = {}) {
  const obtained: string[] = [];
  const events: AuditInput[] = [];
  const session = (scope: RoleSession['scope']): RoleSession => ({
    credentials: {
      accessKeyId: 'RGSESSIONKEYID000001',
      secretAccessKey: 'secret-of-the-role-session',
      sessionToken: 'token-of-the-role-session',
      expiration: new Date(NOW + (options.expiresInMs ?? 3_600_000)),
    },
    roleArn: 'arn:aws:iam::123456789012:role/sales',
    sessionName: 'rg-s3-sales-for-alice',
    scope,
    issuedAt: new Date(NOW),
  });
  const inner = createSigningService({
    connections: {
      resolveForUse: async (_actor, name) => {
        if (name !== connection.name) throw notFound('connection.not_found', `connection "${name}" does not exist`);
        return { connection, version: 1, createdAt: '', updatedAt: '' };
      },
    },
    engine: {
      obtain: async (_p, c, _v, scope) => {
        obtained.push(`${c.name}:${scope.prefix}:${scope.access}`);
        return session(scope);
      },
    },
    clock: { now: () => NOW },
    reusableReads: options.reusableReads ?? true,
  });
  const signing = auditSigning(inner, {
    record: async (input) => {
      if (options.failAudit) throw internal('audit.unavailable', 'the audit trail could not record this request');
      events.push(input);
      return chain({ seq: 0, hash: GENESIS_HASH }, { ...input, id: 'e', time: '' });
    },
  });
  return { signing, obtained, events };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (isRolegateError(e)) return e.code;
    throw e;
  }
}

describe('signing service', () => {
  it('signs with the role session of the connection scope and audits the key, never the signature or token', async () => {
    const { signing, obtained, events } = rig();
    const signed = await signing.sign(alice, 's3-sales', {
      method: 'GET',
      uri: 'http://127.0.0.1:7480/data/sales/q1.csv',
      headers: {},
      region: 'us-east-1',
    });
    expect(signed.headers['x-amz-security-token']).toBe('token-of-the-role-session');
    expect(obtained).toEqual(['s3-sales:sales/:read-write']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'signing.sign',
      actor: 'alice',
      connection: 's3-sales',
      bucket: 'data',
      key: 'sales/q1.csv',
      outcome: 'allowed',
      sessionName: 'rg-s3-sales-for-alice',
      details: { method: 'GET', operation: 'GetObject' },
    });
    const audited = JSON.stringify(events);
    for (const secret of [
      'secret-of-the-role-session',
      'token-of-the-role-session',
      signed.headers.authorization ?? '',
    ]) {
      expect(audited).not.toContain(secret);
    }
  });

  it('marks object reads reusable and audits so; writes, listings and a switched-off option never are', async () => {
    const uri = 'http://127.0.0.1:7480/data/sales/q1.csv';
    const { signing, events } = rig();
    const get = await signing.sign(alice, 's3-sales', { method: 'GET', uri, headers: {} });
    const head = await signing.sign(alice, 's3-sales', { method: 'HEAD', uri, headers: {} });
    const put = await signing.sign(alice, 's3-sales', { method: 'PUT', uri, headers: {} });
    const list = await signing.sign(alice, 's3-sales', {
      method: 'GET',
      uri: 'http://127.0.0.1:7480/data?list-type=2&prefix=sales%2F',
      headers: {},
    });
    expect([get.reusable, head.reusable, put.reusable, list.reusable]).toEqual([true, true, false, false]);
    expect(events.map((e) => e.details?.reusable)).toEqual([true, true, undefined, undefined]);

    const strict = rig({ reusableReads: false });
    const strictGet = await strict.signing.sign(alice, 's3-sales', { method: 'GET', uri, headers: {} });
    expect(strictGet.reusable).toBe(false);
    expect(strict.events[0]?.details?.reusable).toBeUndefined();
  });

  it('refuses before obtaining a role session, and audits the refusal with its code and key', async () => {
    const { signing, obtained, events } = rig();
    const outside = signing.sign(alice, 's3-sales', {
      method: 'GET',
      uri: 'http://127.0.0.1:7480/data/hr/x.csv',
      headers: {},
    });
    expect(await codeOf(outside)).toBe('signing.outside_scope');
    const stranger = { ...alice, username: 'bob', groups: [] };
    expect(await codeOf(signing.presign(stranger, 's3-sales', { key: 'q1.csv' }))).toBe('signing.not_allowed');
    expect(await codeOf(signing.sign(alice, 'nope', { method: 'GET', uri: 'x', headers: {} }))).toBe(
      'connection.not_found',
    );
    expect(obtained).toEqual([]);
    expect(events.map((e) => [e.action, e.outcome, e.reasonCode, e.key])).toEqual([
      ['signing.sign', 'denied', 'signing.outside_scope', 'hr/x.csv'],
      ['signing.presign', 'denied', 'signing.not_allowed', undefined],
      ['signing.sign', 'denied', 'connection.not_found', undefined],
    ]);
  });

  it('presigns for at most what is left of the role session', async () => {
    const { signing } = rig({ expiresInMs: 90_500 });
    const p = await signing.presign(alice, 's3-sales', { key: 'q1.csv', expiresSeconds: 600 });
    expect(p.expiresSeconds).toBe(90);
    expect(new URL(p.url).searchParams.get('X-Amz-Expires')).toBe('90');
    expect(p.expiresAt).toBe(new Date(NOW + 90_000).toISOString());
    expect(p.key).toBe('sales/q1.csv');
  });

  it('is fail-closed: no signature when the audit trail cannot record it', async () => {
    const { signing } = rig({ failAudit: true });
    expect(await codeOf(signing.presign(alice, 's3-sales', { key: 'q1.csv' }))).toBe('audit.unavailable');
  });
});
