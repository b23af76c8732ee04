import { describe, expect, it } from 'vitest';
import { unauthenticated, upstreamUnavailable } from '../../errors/errors.js';
import type { AuditInput } from '../audit/audit-trail.js';
import type { LoginStateKind, LoginStateStore } from './login-state.store.js';
import { createOidcLoginService } from './oidc-login.service.js';
import type { DevicePoll, OidcProviderClient } from './oidc-provider-client.js';

/** put/take as the store's contract says: a live key is not replaced, a taken or expired one is gone. */
function memoryStates(): LoginStateStore & { size(): number } {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async put(kind: LoginStateKind, key: string, value: string, expiresAt: number, now: number) {
      const id = `${kind}:${key}`;
      const held = entries.get(id);
      if (held !== undefined && held.expiresAt > now) return false;
      entries.set(id, { value, expiresAt });
      return true;
    },
    async take(kind: LoginStateKind, key: string, now: number) {
      const id = `${kind}:${key}`;
      const held = entries.get(id);
      entries.delete(id);
      return held !== undefined && held.expiresAt > now ? held.value : undefined;
    },
    size: () => entries.size,
  };
}

/** The service over a scripted provider: each poll answers the next scripted step. */
function rig(script: Array<DevicePoll | Error>, options: { expiresInSeconds?: number; interval?: number } = {}) {
  let now = 1_000_000;
  const polls: string[] = [];
  const events: AuditInput[] = [];
  const states = memoryStates();
  const provider: OidcProviderClient = {
    startLogin: () => Promise.reject(new Error('not used')),
    finishLogin: () => Promise.reject(new Error('not used')),
    async verifyIdToken(idToken) {
      return { sub: `sub-of-${idToken}`, preferred_username: 'dana', iat: 1, exp: 2 };
    },
    async startDeviceLogin() {
      return {
        deviceCode: 'the-providers-device-code',
        userCode: 'WDJB-MJHT',
        verificationUri: 'https://idp.example/device',
        expiresInSeconds: options.expiresInSeconds ?? 600,
        intervalSeconds: options.interval ?? 5,
      };
    },
    async pollDeviceLogin(deviceCode) {
      polls.push(deviceCode);
      const step = script.shift();
      if (step === undefined) throw new Error('the script ran out');
      if (step instanceof Error) throw step;
      return step;
    },
  };
  const service = createOidcLoginService({
    config: {
      issuer: 'https://idp.example',
      claims: { username: 'preferred_username', groups: 'groups', roles: 'roles' },
      mode: 'brokered',
      providerName: 'oidc',
    },
    provider,
    identity: {
      syncFederatedUser: async (u) => ({
        userId: 'u-1',
        username: u.username,
        role: 'analyst',
        groups: [...u.groups],
        adminProperties: {},
      }),
    },
    links: {
      userOfSubject: async () => 'u-1',
      linkSubject: async () => undefined,
      putSessionIdToken: async () => undefined,
    },
    roles: { replaceIdpRoles: async () => undefined },
    sessions: {
      create: async () => ({
        id: 'ses-1',
        userId: 'u-1',
        name: 'oidc login',
        roleArn: null,
        createdAt: '',
        expiresAt: '2030-01-01T00:00:00.000Z',
        token: 'rgs_session-token',
      }),
    },
    trail: {
      record: async (e) => {
        events.push(e);
        return e as never;
      },
    },
    states,
    clock: { now: () => now },
  });
  return { service, polls, events, states, advance: (ms: number) => (now += ms) };
}

describe('OIDC device sign-in (service)', () => {
  it('hands out rolegate’s handle, never the provider’s device code, and keeps the sign-in at most 15 minutes', async () => {
    const r = rig([], { expiresInSeconds: 3600 });
    const started = await r.service.startDeviceLogin();
    expect(JSON.stringify(started)).not.toContain('the-providers-device-code');
    expect(started.deviceRequest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started).toMatchObject({ userCode: 'WDJB-MJHT', expiresIn: 900, interval: 5 });
    r.advance(900_000);
    await expect(r.service.pollDeviceLogin(started.deviceRequest)).rejects.toMatchObject({
      code: 'auth.oidc_device_invalid',
    });
    expect(r.polls).toEqual([]);
  });

  it('asks the provider at most once per interval, and lengthens the interval on slow_down', async () => {
    const r = rig([{ wait: 'authorization_pending' }, { wait: 'slow_down' }, { idToken: 'id-token' }]);
    const { deviceRequest } = await r.service.startDeviceLogin();
    expect(await r.service.pollDeviceLogin(deviceRequest)).toEqual({ pending: true, interval: 5 });
    r.advance(1000);
    expect(await r.service.pollDeviceLogin(deviceRequest)).toEqual({ pending: true, interval: 5 });
    expect(r.polls).toHaveLength(1);
    r.advance(4000);
    expect(await r.service.pollDeviceLogin(deviceRequest)).toEqual({ pending: true, interval: 10 });
    r.advance(9000);
    expect(await r.service.pollDeviceLogin(deviceRequest)).toEqual({ pending: true, interval: 10 });
    expect(r.polls).toHaveLength(2);
    r.advance(1000);
    const done = await r.service.pollDeviceLogin(deviceRequest);
    expect(done).toMatchObject({ login: { username: 'dana', token: 'rgs_session-token' } });
    expect(r.polls).toEqual(Array(3).fill('the-providers-device-code'));
    // Signed in once: the handle is spent, and nothing is left in the store.
    expect(r.states.size()).toBe(0);
    await expect(r.service.pollDeviceLogin(deviceRequest)).rejects.toMatchObject({ code: 'auth.oidc_device_invalid' });
    expect(r.events.map((e) => [e.outcome, e.reasonCode ?? null, e.details?.channel])).toEqual([
      ['allowed', null, 'device'],
      ['denied', 'auth.oidc_device_invalid', 'device'],
    ]);
  });

  it('survives a provider that cannot be reached, and ends on a refusal', async () => {
    const unreachable = upstreamUnavailable('auth.oidc_unavailable', 'the identity provider could not be reached');
    const denied = unauthenticated('auth.oidc_device_denied', 'the sign-in was refused at the identity provider');
    const r = rig([unreachable, denied]);
    const { deviceRequest } = await r.service.startDeviceLogin();
    await expect(r.service.pollDeviceLogin(deviceRequest)).rejects.toBe(unreachable);
    r.advance(5000);
    await expect(r.service.pollDeviceLogin(deviceRequest)).rejects.toBe(denied);
    r.advance(5000);
    await expect(r.service.pollDeviceLogin(deviceRequest)).rejects.toMatchObject({ code: 'auth.oidc_device_invalid' });
    expect(r.polls).toHaveLength(2);
    expect(r.events.map((e) => e.reasonCode)).toEqual(['auth.oidc_device_denied', 'auth.oidc_device_invalid']);
  });
});
