import type { AssumeRoleRequest, StsGateway } from '../../cloud/aws/sts.js';
import { upstreamUnavailable } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';

export interface StsBudgetSettings {
  /** Sustained AssumeRole calls per second allowed for one master identity. */
  readonly perSecond: number;
  /** Calls allowed at once after a quiet period. */
  readonly burst: number;
  /** A call waits at most this long for the budget; beyond that it fails with `sts.rate_limited`. */
  readonly maxWaitMs: number;
}

/** How a call fared against the budget: went at once, waited its turn, or was refused. */
export type StsBudgetOutcome = 'immediate' | 'waited' | 'rejected';

/**
 * Where the token buckets live: in this process, or in the store that several instances share (so that together
 * they stay within the account's quota).
 */
export interface StsBudgetLedger {
  /** Takes a token of `identity`'s bucket at `now`: how long to wait for it (ms), or undefined beyond `maxWaitMs`. */
  reserve(identity: string, now: number): Promise<number | undefined>;
}

/**
 * The bucket arithmetic both ledgers share: refilled at `perSecond` up to `burst`, it may go negative (each
 * waiting call has reserved a future token). Undefined when the call's turn would come after `maxWaitMs`.
 */
export function takeToken(
  settings: StsBudgetSettings,
  bucket: { tokens: number; updatedAt: number } | undefined,
  now: number,
): { tokens: number; updatedAt: number; waitMs: number } | undefined {
  const elapsed = bucket === undefined ? 0 : Math.max(0, now - bucket.updatedAt);
  const before = Math.min(settings.burst, (bucket?.tokens ?? settings.burst) + (elapsed / 1000) * settings.perSecond);
  const waitMs = before >= 1 ? 0 : ((1 - before) / settings.perSecond) * 1000;
  if (waitMs > settings.maxWaitMs) return undefined;
  return { tokens: before - 1, updatedAt: Math.max(now, bucket?.updatedAt ?? now), waitMs };
}

/** The buckets of this process alone (one instance, or SQLite). */
export function memoryLedger(settings: StsBudgetSettings): StsBudgetLedger {
  const buckets = new Map<string, { tokens: number; updatedAt: number }>();
  return {
    async reserve(identity, now) {
      const taken = takeToken(settings, buckets.get(identity), now);
      if (taken === undefined) return undefined;
      buckets.set(identity, { tokens: taken.tokens, updatedAt: taken.updatedAt });
      return taken.waitMs;
    },
  };
}

/**
 * A token bucket per master identity (its access key id) in front of STS: a burst of new users, or a cache
 * lost on restart, cannot exceed the account's STS quota. Calls reserve tokens in arrival order, so waits are
 * first-come first-served; a call whose turn would come later than `maxWaitMs` is refused at once.
 */
export function budgetedSts(
  sts: StsGateway,
  settings: StsBudgetSettings,
  deps: {
    clock: Clock;
    ledger?: StsBudgetLedger;
    sleep?: (ms: number) => Promise<void>;
    onOutcome?: (outcome: StsBudgetOutcome) => void;
  },
): StsGateway {
  const ledger = deps.ledger ?? memoryLedger(settings);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  return {
    async assumeRole(request: AssumeRoleRequest) {
      const waitMs = await ledger.reserve(request.masterCredentials.accessKeyId, deps.clock.now());
      if (waitMs === undefined) {
        deps.onOutcome?.('rejected');
        throw upstreamUnavailable(
          'sts.rate_limited',
          `STS rate limit: more than ${settings.perSecond} role sessions per second were requested with these master ` +
            `credentials, and none became available within ${settings.maxWaitMs} ms; try again shortly`,
        );
      }
      deps.onOutcome?.(waitMs === 0 ? 'immediate' : 'waited');
      if (waitMs > 0) await sleep(waitMs);
      return sts.assumeRole(request);
    },
  };
}
