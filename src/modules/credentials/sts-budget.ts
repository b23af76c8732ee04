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

interface Bucket {
  /** May go negative: each waiting call has reserved a future token. */
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per master identity (its access key id) in front of STS: a burst of new users, or a cache
 * lost on restart, cannot exceed the account's STS quota. Calls reserve tokens in arrival order, so waits are
 * first-come first-served; a call whose turn would come later than `maxWaitMs` is refused at once.
 */
export function budgetedSts(
  sts: StsGateway,
  settings: StsBudgetSettings,
  deps: { clock: Clock; sleep?: (ms: number) => Promise<void>; onOutcome?: (outcome: StsBudgetOutcome) => void },
): StsGateway {
  const buckets = new Map<string, Bucket>();
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  function reserve(identity: string): number {
    const now = deps.clock.now();
    const bucket = buckets.get(identity) ?? { tokens: settings.burst, updatedAt: now };
    bucket.tokens = Math.min(settings.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * settings.perSecond);
    bucket.updatedAt = now;
    buckets.set(identity, bucket);
    const waitMs = bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / settings.perSecond) * 1000;
    if (waitMs > settings.maxWaitMs) {
      deps.onOutcome?.('rejected');
      throw upstreamUnavailable(
        'sts.rate_limited',
        `STS rate limit: more than ${settings.perSecond} role sessions per second were requested with these master ` +
          `credentials, and none became available within ${settings.maxWaitMs} ms; try again shortly`,
      );
    }
    bucket.tokens -= 1;
    deps.onOutcome?.(waitMs === 0 ? 'immediate' : 'waited');
    return waitMs;
  }

  return {
    async assumeRole(request: AssumeRoleRequest) {
      const waitMs = reserve(request.masterCredentials.accessKeyId);
      if (waitMs > 0) await sleep(waitMs);
      return sts.assumeRole(request);
    },
  };
}
