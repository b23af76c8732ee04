import { describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { CONNECTION_FIELDS } from './connection-form';
import { fieldErrors } from './field-errors';

const err = (message: string, details?: Record<string, string>, code = 'connection.invalid') =>
  new ApiError(400, { code, message, requestId: 'r1', details });

describe('fieldErrors', () => {
  it('puts a domain error under the field the API names', () => {
    const split = fieldErrors(
      err('credentials.durationSeconds: must be a whole number from 900 to 43200', {
        field: 'credentials.durationSeconds',
      }),
      CONNECTION_FIELDS,
    );
    expect(split).toEqual({
      byField: { 'credentials.durationSeconds': 'must be a whole number from 900 to 43200' },
      rest: undefined,
    });
  });

  it('splits schema errors by field and keeps what fits no field', () => {
    const split = fieldErrors(
      err(
        'invalid body: credentials.durationSeconds: expected number; allowedRoles.1: expected string; frob: unknown',
        undefined,
        'request.invalid',
      ),
      CONNECTION_FIELDS,
    );
    expect(split.byField).toEqual({
      'credentials.durationSeconds': 'expected number',
      allowedRoles: 'expected string',
    });
    expect((split.rest as ApiError).message).toBe('frob: unknown');
    expect((split.rest as ApiError).code).toBe('request.invalid');
  });

  it('leaves errors that name no field whole', () => {
    const conflict = err('connection "x" already exists', undefined, 'connection.exists');
    expect(fieldErrors(conflict, CONNECTION_FIELDS)).toEqual({ byField: {}, rest: conflict });
    const plain = new Error('boom');
    expect(fieldErrors(plain, CONNECTION_FIELDS)).toEqual({ byField: {}, rest: plain });
  });
});
