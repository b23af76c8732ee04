import { randomBytes } from 'node:crypto';
import type { Principal } from '../../domain/model.js';
import { invalidInput, notFound, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { GatewayKeyRecord, GatewayKeyStore } from './gateway-keys.store.js';

/** A newly created key: the only time its secret is shown. */
export interface IssuedGatewayKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly name: string;
  readonly createdAt: string;
}

export interface GatewayKeyView {
  readonly accessKeyId: string;
  readonly name: string;
  readonly createdAt: string;
}

export interface GatewayKeysServiceDeps {
  readonly store: GatewayKeyStore;
  readonly identity: Pick<IdentityService, 'principalFor' | 'principalById'>;
  readonly clock: Clock;
}

export type GatewayKeysService = ReturnType<typeof createGatewayKeysService>;

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** Most keys one user may hold: enough for every tool and machine, bounded against misuse. */
const MAX_KEYS_PER_USER = 50;

/** `RG` + 18 base32 characters (90 bits): the shape S3 clients expect of an access key id. */
function newAccessKeyId(): string {
  const bytes = randomBytes(18);
  let id = 'RG';
  for (const b of bytes) id += KEY_ALPHABET[b & 31];
  return id;
}

const toView = (k: GatewayKeyRecord): GatewayKeyView => ({
  accessKeyId: k.accessKeyId,
  name: k.name,
  createdAt: k.createdAt,
});

/**
 * Gateway keys: SigV4 key pairs for the S3 gateway, each standing for one user. Users manage their own; admins
 * anyone's. Nothing is cached: a revoked key, a deleted user or a changed group membership is seen on the very
 * next request.
 */
export function createGatewayKeysService(deps: GatewayKeysServiceDeps) {
  const { store, identity, clock } = deps;
  return {
    async create(actor: Principal, username: string, input: { name: string }): Promise<IssuedGatewayKey> {
      const owner = await identity.principalFor(actor, username);
      if (input.name.length < 1 || input.name.length > 100) {
        throw invalidInput('gateway_key.invalid_name', 'key name must be 1–100 characters');
      }
      if ((await store.listByUser(owner.userId)).length >= MAX_KEYS_PER_USER) {
        throw invalidInput('gateway_key.too_many', `a user may hold at most ${MAX_KEYS_PER_USER} gateway keys`);
      }
      const key: GatewayKeyRecord = {
        accessKeyId: newAccessKeyId(),
        userId: owner.userId,
        name: input.name,
        createdAt: new Date(clock.now()).toISOString(),
      };
      // 40 characters like an AWS secret, base64url so it needs no quoting in shells and config files.
      const secretAccessKey = randomBytes(30).toString('base64url');
      await store.create(key, secretAccessKey);
      return { ...toView(key), secretAccessKey };
    },

    async list(actor: Principal, username: string): Promise<GatewayKeyView[]> {
      const owner = await identity.principalFor(actor, username);
      return (await store.listByUser(owner.userId)).map(toView);
    },

    async revoke(actor: Principal, username: string, accessKeyId: string): Promise<void> {
      const owner = await identity.principalFor(actor, username);
      if (!(await store.delete(accessKeyId, owner.userId))) {
        throw notFound('gateway_key.not_found', `gateway key ${accessKeyId} does not exist`);
      }
    },

    /**
     * The user a key stands for and the key's secret, to verify a signature with. Looked up on every request.
     * @throws RolegateError `gateway.invalid_access_key` for unknown and revoked keys and keys of deleted users.
     */
    async resolve(accessKeyId: string): Promise<{ principal: Principal; secret: string }> {
      const denied = () =>
        unauthenticated(
          'gateway.invalid_access_key',
          'The AWS access key Id you provided does not exist in our records.',
        );
      const found = await store.findWithSecret(accessKeyId);
      if (found === undefined) throw denied();
      const principal = await identity.principalById(found.key.userId);
      if (principal === undefined) throw denied();
      return { principal, secret: found.secret };
    },
  };
}
