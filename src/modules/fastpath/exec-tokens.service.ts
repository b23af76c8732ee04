import { randomBytes } from 'node:crypto';
import type { Principal } from '../../domain/model.js';
import type { NarrowingRequest } from '../../domain/narrowing.js';
import { invalidInput, notFound, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import { hashToken, randomId } from '../../lib/tokens.js';
import type { CredentialsService, IssuedCredentials } from '../credentials/credentials.service.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { ExecTokenRecord, FastpathStore } from './fastpath.store.js';

/** Exec tokens look like `rgx_<43 base64url chars>`: told apart from API tokens (`rg_`) at a glance. */
const EXEC_TOKEN = /^rgx_[A-Za-z0-9_-]{43}$/;
export const DEFAULT_EXEC_TOKEN_TTL_SECONDS = 12 * 3600;
export const MAX_EXEC_TOKEN_TTL_SECONDS = 7 * 86_400;
const MIN_EXEC_TOKEN_TTL_SECONDS = 60;

export interface ExecTokenRequest extends NarrowingRequest {
  readonly connection: string;
  /** What it is for, e.g. `exec python job.py`; shown in listings. */
  readonly name?: string | undefined;
  readonly ttlSeconds?: number | undefined;
}

export interface IssuedExecToken {
  readonly id: string;
  /** Shown once; only its hash is stored. */
  readonly token: string;
  readonly connection: string;
  readonly expiresAt: string;
  /** Where the credentials it yields reach (so the child process can be pointed there). */
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly bucket: string;
  readonly prefix: string;
}

/** What a listing shows about an exec token: never the token. */
export type ExecTokenView = Omit<ExecTokenRecord, 'userId'>;

export interface ExecTokensServiceDeps {
  readonly store: Pick<
    FastpathStore,
    | 'createExecToken'
    | 'findExecTokenByHash'
    | 'findExecToken'
    | 'listExecTokens'
    | 'deleteExecToken'
    | 'deleteExpiredExecTokens'
  >;
  readonly identity: Pick<IdentityService, 'principalById'>;
  readonly credentials: Pick<CredentialsService, 'issue'>;
  readonly clock: Clock;
}

export type ExecTokensService = ReturnType<typeof createExecTokensService>;

const narrowingOf = (r: ExecTokenRecord): NarrowingRequest => ({
  prefix: r.prefix ?? undefined,
  readOnly: r.readOnly || undefined,
  durationSeconds: r.durationSeconds ?? undefined,
});

/**
 * Per-process credentials tokens: what `rolegate exec` hands to a child process (through the AWS container
 * credentials variables) instead of the user's API token. One token yields only its user's credentials for
 * its one connection, narrowed as it was created, and re-checks every rule on each use; it expires, and
 * `rolegate exec` deletes it when the process ends.
 */
export function createExecTokensService(deps: ExecTokensServiceDeps) {
  const { store, clock } = deps;
  const view = ({ userId: _u, ...rest }: ExecTokenRecord): ExecTokenView => rest;

  return {
    /**
     * Creates a token for `actor`'s own credentials on one connection. The credentials are obtained once
     * here, so a token is only ever created for what the actor may receive right now.
     */
    async create(actor: Principal, request: ExecTokenRequest): Promise<IssuedExecToken> {
      const ttl = request.ttlSeconds ?? DEFAULT_EXEC_TOKEN_TTL_SECONDS;
      if (!Number.isInteger(ttl) || ttl < MIN_EXEC_TOKEN_TTL_SECONDS || ttl > MAX_EXEC_TOKEN_TTL_SECONDS) {
        throw invalidInput(
          'exec_token.invalid_ttl',
          `ttlSeconds must be a whole number from ${MIN_EXEC_TOKEN_TTL_SECONDS} to ${MAX_EXEC_TOKEN_TTL_SECONDS}`,
        );
      }
      const name = request.name ?? 'exec';
      if (name.length < 1 || name.length > 200) throw invalidInput('exec_token.invalid_name', 'name: 1–200 characters');
      const narrowing: NarrowingRequest = {
        prefix: request.prefix,
        readOnly: request.readOnly,
        durationSeconds: request.durationSeconds,
      };
      const first = await deps.credentials.issue(actor, request.connection, narrowing);
      const now = clock.now();
      await store.deleteExpiredExecTokens(new Date(now).toISOString());
      const token = `rgx_${randomBytes(32).toString('base64url')}`;
      const record: ExecTokenRecord = {
        id: randomId('xtk'),
        userId: actor.userId,
        connection: request.connection,
        name,
        prefix: request.prefix ?? null,
        readOnly: request.readOnly === true,
        durationSeconds: request.durationSeconds ?? null,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + ttl * 1000).toISOString(),
      };
      await store.createExecToken(record, hashToken(token));
      return {
        id: record.id,
        token,
        connection: record.connection,
        expiresAt: record.expiresAt,
        region: first.region,
        endpoint: first.endpoint,
        forcePathStyle: first.forcePathStyle,
        bucket: first.bucket,
        prefix: first.prefix,
      };
    },

    async list(actor: Principal): Promise<ExecTokenView[]> {
      const now = new Date(clock.now()).toISOString();
      return (await store.listExecTokens(actor.userId)).filter((t) => t.expiresAt > now).map(view);
    },

    /** The owner or an admin deletes a token; anyone else learns nothing about it. */
    async revoke(actor: Principal, id: string): Promise<void> {
      const record = await store.findExecToken(id);
      if (record === undefined || (record.userId !== actor.userId && actor.role !== 'admin')) {
        throw notFound('exec_token.not_found', `exec token ${id} does not exist`);
      }
      await store.deleteExecToken(id);
    },

    /**
     * The credentials an exec token stands for, decided afresh for its user (who may have lost access since).
     * Unknown, malformed, expired and orphaned tokens look the same to the caller.
     */
    async credentialsFor(token: string): Promise<{ principal: Principal; credentials: IssuedCredentials }> {
      const denied = () =>
        unauthenticated('exec_token.invalid', 'the exec token is missing, invalid, expired or revoked');
      if (!EXEC_TOKEN.test(token)) throw denied();
      const record = await store.findExecTokenByHash(hashToken(token));
      if (record === undefined || Date.parse(record.expiresAt) <= clock.now()) throw denied();
      const principal = await deps.identity.principalById(record.userId);
      if (principal === undefined) throw denied();
      const credentials = await deps.credentials.issue(principal, record.connection, narrowingOf(record));
      return { principal, credentials };
    },
  };
}
