import { describe, expect, it } from 'vitest';
import { withRetry } from './retry.js';

class Retryable extends Error {}

function harness(options: { failures: number; random?: number }) {
  const sleeps: number[] = [];
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    if (attempts.length <= options.failures) throw new Retryable(`failure ${attempts.length}`);
    return 'ok';
  };
  const settings = {
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    isRetryable: (e: unknown) => e instanceof Retryable,
    random: () => options.random ?? 0.5,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };
  return { fn, settings, sleeps, attempts };
}

describe('withRetry', () => {
  it('returns the first success without sleeping', async () => {
    const h = harness({ failures: 0 });
    expect(await withRetry(h.fn, { ...h.settings, maxAttempts: 3 })).toBe('ok');
    expect(h.attempts).toEqual([1]);
    expect(h.sleeps).toEqual([]);
  });

  it('retries retryable failures, numbering the attempts', async () => {
    const h = harness({ failures: 2 });
    expect(await withRetry(h.fn, { ...h.settings, maxAttempts: 3 })).toBe('ok');
    expect(h.attempts).toEqual([1, 2, 3]);
    expect(h.sleeps).toHaveLength(2);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    const h = harness({ failures: 10 });
    await expect(withRetry(h.fn, { ...h.settings, maxAttempts: 4 })).rejects.toThrow('failure 4');
    expect(h.attempts).toEqual([1, 2, 3, 4]);
    expect(h.sleeps).toHaveLength(3);
  });

  it('throws a non-retryable error at once', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const fatal = new Error('fatal');
    await expect(
      withRetry(
        async () => {
          calls++;
          throw fatal;
        },
        {
          maxAttempts: 5,
          baseDelayMs: 100,
          maxDelayMs: 1_000,
          isRetryable: (e) => e instanceof Retryable,
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('with maxAttempts 1 never retries', async () => {
    const h = harness({ failures: 1 });
    await expect(withRetry(h.fn, { ...h.settings, maxAttempts: 1 })).rejects.toThrow('failure 1');
    expect(h.attempts).toEqual([1]);
  });

  it('doubles the backoff cap per attempt up to maxDelayMs (full jitter)', async () => {
    // random() just below 1 shows each cap: floor(0.999999 * cap) = cap - 1.
    const h = harness({ failures: 7, random: 0.999_999 });
    expect(await withRetry(h.fn, { ...h.settings, maxAttempts: 8 })).toBe('ok');
    expect(h.sleeps).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it('scales the delay by random()', async () => {
    const h = harness({ failures: 3, random: 0.5 });
    await withRetry(h.fn, { ...h.settings, maxAttempts: 4 });
    expect(h.sleeps).toEqual([50, 100, 200]);
    const zero = harness({ failures: 3, random: 0 });
    await withRetry(zero.fn, { ...zero.settings, maxAttempts: 4 });
    expect(zero.sleeps).toEqual([0, 0, 0]);
  });

  it('sleeps for real by default', async () => {
    let calls = 0;
    const started = Date.now();
    const result = await withRetry(
      async () => {
        if (++calls < 2) throw new Retryable();
        return calls;
      },
      { maxAttempts: 2, baseDelayMs: 30, maxDelayMs: 30, isRetryable: () => true, random: () => 0.99 },
    );
    expect(result).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
