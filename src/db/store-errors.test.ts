import { describe, expect, it } from 'vitest';
import { storeUnavailable } from './store-errors.js';

describe('storeUnavailable', () => {
  it('recognises a database out of reach, however node-postgres or node says it', () => {
    const cases: unknown[] = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }),
    ];
    for (const error of cases) {
      expect(storeUnavailable(error)).toMatchObject({
        kind: 'UpstreamUnavailable',
        code: 'store.unavailable',
        retryable: true,
      });
    }
  });

  it('keeps only the message and code of its cause (node-postgres attaches its client, password and all)', () => {
    const pgError = Object.assign(new Error('Connection terminated unexpectedly'), {
      client: { password: 'pg-password-123' },
    });
    const cause = storeUnavailable(pgError)?.cause;
    if (!(cause instanceof Error)) throw new Error('no cause');
    expect(JSON.stringify({ ...cause })).not.toContain('pg-password-123');
    expect(cause.message).toBe('Connection terminated unexpectedly');
  });

  it('leaves every other error alone (constraint violations, SQL mistakes, non-errors)', () => {
    for (const error of [
      Object.assign(new Error('duplicate key'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      new Error('something else'),
      'a string',
      undefined,
    ]) {
      expect(storeUnavailable(error)).toBeUndefined();
    }
  });
});
