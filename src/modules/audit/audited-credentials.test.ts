import { describe, expect, it } from 'vitest';
import type { Principal } from '../../domain/model.js';
import { permissionDenied } from '../../errors/errors.js';
import { runWithRequestContext } from '../../lib/request-context.js';
import type { CredentialsService, IssuedCredentials } from '../credentials/credentials.service.js';
import type { AuditInput } from './audit-trail.js';
import { auditCredentials, withRequestFacts } from './audited-credentials.js';

const alice: Principal = { userId: 'u1', username: 'alice', role: 'analyst', groups: [], adminProperties: {} };
const context = { requestId: 'req-12345678', sourceIp: '10.0.0.7', userAgent: 'spark/3.5', transport: 'api' };

describe('withRequestFacts', () => {
  it("adds the request's facts to an event's fields, and the fields win", () => {
    const input = runWithRequestContext({ ...context, authMethod: 'token', actor: 'someone-else' }, () =>
      withRequestFacts(alice, { action: 'object.get', outcome: 'allowed' as const, userAgent: 'given' }),
    );
    expect(input).toEqual({
      requestId: 'req-12345678',
      actor: 'alice',
      authMethod: 'token',
      sourceIp: '10.0.0.7',
      userAgent: 'given',
      action: 'object.get',
      outcome: 'allowed',
    });
  });

  it('names the context’s actor when there is no principal, and nothing outside a request', () => {
    const inside = runWithRequestContext({ ...context, actor: 'bob' }, () =>
      withRequestFacts(undefined, { action: 'auth.login', outcome: 'denied' as const }),
    );
    expect(inside.actor).toBe('bob');
    const outside = withRequestFacts(undefined, { action: 'upload.sweep_abort', outcome: 'allowed' as const });
    expect(outside).toMatchObject({ requestId: undefined, actor: undefined, sourceIp: undefined });
  });
});

describe('auditCredentials', () => {
  const issued: IssuedCredentials = {
    accessKeyId: 'ASIAEXAMPLEKEYID',
    secretAccessKey: 'never-recorded',
    sessionToken: 'never-recorded-either',
    region: 'us-east-1',
    forcePathStyle: true,
    bucket: 'datalake',
    prefix: 'sales/',
    readOnly: false,
    roleArn: 'arn:aws:iam:::role/sales-role',
    sessionName: 'rg-s3-sales-for-alice',
  };

  function audited(issue: CredentialsService['issue']) {
    const recorded: AuditInput[] = [];
    const service = auditCredentials({ issue } as CredentialsService, {
      record: async (input) => {
        recorded.push(input);
        return { ...input, id: 'x', time: 't', seq: recorded.length, prevHash: 'p', hash: 'h' };
      },
    });
    return { service, recorded };
  }

  it('records an issued session with the request facts and no secret', async () => {
    const { service, recorded } = audited(async () => issued);
    await runWithRequestContext({ ...context, authMethod: 'token' }, () => service.issue(alice, 's3-sales'));
    expect(recorded).toEqual([
      expect.objectContaining({
        requestId: 'req-12345678',
        actor: 'alice',
        authMethod: 'token',
        sourceIp: '10.0.0.7',
        action: 'credentials.issue',
        connection: 's3-sales',
        roleArn: issued.roleArn,
        sessionName: issued.sessionName,
        accessKeyId: issued.accessKeyId,
        bucket: 'datalake',
        key: 'sales/',
        outcome: 'allowed',
      }),
    ]);
    expect(JSON.stringify(recorded)).not.toContain('never-recorded');
  });

  it('records a refusal as denied with its code, then rethrows it', async () => {
    const refusal = permissionDenied('credentials.details_not_readable', 'not readable');
    const { service, recorded } = audited(async () => {
      throw refusal;
    });
    await expect(runWithRequestContext(context, () => service.issue(alice, 's3-sales'))).rejects.toBe(refusal);
    expect(recorded).toEqual([
      expect.objectContaining({
        actor: 'alice',
        action: 'credentials.issue',
        connection: 's3-sales',
        outcome: 'denied',
        reasonCode: 'credentials.details_not_readable',
      }),
    ]);
  });
});
