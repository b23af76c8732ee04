import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('merges concurrent calls for one key into one', async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let calls = 0;
    const fn = () => {
      calls++;
      return gate.promise;
    };
    const results = Promise.all([flights.run('a', fn), flights.run('a', fn), flights.run('a', fn)]);
    expect(calls).toBe(1);
    expect(flights.size).toBe(1);
    gate.resolve(7);
    expect(await results).toEqual([7, 7, 7]);
    expect(flights.size).toBe(0);
  });

  it('runs different keys independently', async () => {
    const flights = new SingleFlight<string, string>();
    let calls = 0;
    const [a, b] = await Promise.all([
      flights.run('a', async () => {
        calls++;
        return 'A';
      }),
      flights.run('b', async () => {
        calls++;
        return 'B';
      }),
    ]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(calls).toBe(2);
  });

  it('starts afresh once a call has settled (no caching)', async () => {
    const flights = new SingleFlight<string, number>();
    let calls = 0;
    const fn = async () => ++calls;
    expect(await flights.run('a', fn)).toBe(1);
    expect(await flights.run('a', fn)).toBe(2);
  });

  it('shares a rejection with every waiter and then forgets it', async () => {
    const flights = new SingleFlight<string, number>();
    const gate = deferred<number>();
    const first = flights.run('a', () => gate.promise);
    const second = flights.run('a', async () => 99);
    gate.reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    expect(flights.size).toBe(0);
    expect(await flights.run('a', async () => 5)).toBe(5);
  });

  it('turns a synchronous throw into a rejection and clears the key', async () => {
    const flights = new SingleFlight<string, number>();
    await expect(
      flights.run('a', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(flights.size).toBe(0);
    expect(await flights.run('a', async () => 5)).toBe(5);
  });

  it('has cleared the key by the time a waiter resumes', async () => {
    const flights = new SingleFlight<string, number>();
    await flights.run('a', async () => 1);
    expect(flights.size).toBe(0);
  });
});
