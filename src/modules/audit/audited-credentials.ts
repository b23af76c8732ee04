import type { AuditOutcome } from '../../domain/audit-event.js';
import type { Principal } from '../../domain/model.js';
import { RolegateError } from '../../errors/errors.js';
import { currentRequestContext } from '../../lib/request-context.js';
import type { CredentialsService } from '../credentials/credentials.service.js';
import type { AuditInput, AuditTrail } from './audit-trail.js';

/** How a refusal is classified: the caller's lack of rights is `denied`, anything else `error`. */
export function outcomeOf(error: unknown): { outcome: AuditOutcome; reasonCode: string } {
  if (error instanceof RolegateError) {
    const denied = error.kind === 'PermissionDenied' || error.kind === 'NotFound' || error.kind === 'Unauthenticated';
    return { outcome: denied ? 'denied' : 'error', reasonCode: error.code };
  }
  return { outcome: 'error', reasonCode: 'internal' };
}

/** The request-scoped facts every event carries. */
export function requestFacts(actor: Principal | undefined): Partial<AuditInput> {
  const ctx = currentRequestContext();
  return {
    requestId: ctx?.requestId,
    actor: actor?.username ?? ctx?.actor,
    authMethod: ctx?.authMethod,
    sourceIp: ctx?.sourceIp,
    userAgent: ctx?.userAgent,
  };
}

/**
 * An event's fields with the request-scoped facts added (`fields` win). `Object.assign`, not
 * `{ ...requestFacts(actor), ...fields }`: Node 20's V8 adds properties after a spread on a slow path, which
 * cost about 2 µs per event — more than the SHA-256 that chains it.
 */
export function withRequestFacts<T extends Partial<AuditInput>>(
  actor: Principal | undefined,
  fields: T,
): Partial<AuditInput> & T {
  return Object.assign(requestFacts(actor), fields);
}

/**
 * Wraps the credentials service — the decide → obtain step every credential and data request goes
 * through — so that each decision is recorded once, allowed or denied, before anything is handed out.
 * Fail-closed: when the trail cannot record an allowed decision, the caller gets the audit error instead.
 */
export function auditCredentials(inner: CredentialsService, trail: Pick<AuditTrail, 'record'>): CredentialsService {
  return {
    ...inner,
    async issue(...args: Parameters<CredentialsService['issue']>) {
      const [actor, connection] = args;
      const started = performance.now();
      let issued: Awaited<ReturnType<CredentialsService['issue']>>;
      try {
        issued = await inner.issue(...args);
      } catch (error) {
        await trail.record(
          withRequestFacts(actor, {
            action: 'credentials.issue',
            connection,
            ...outcomeOf(error),
            durationMs: Math.round(performance.now() - started),
          }),
        );
        throw error;
      }
      await trail.record(
        withRequestFacts(actor, {
          action: 'credentials.issue',
          connection,
          roleArn: issued.roleArn,
          sessionName: issued.sessionName,
          accessKeyId: issued.accessKeyId,
          bucket: issued.bucket,
          key: issued.prefix,
          outcome: 'allowed',
          durationMs: Math.round(performance.now() - started),
        }),
      );
      return issued;
    },

    async sessionForData(...args: Parameters<CredentialsService['sessionForData']>) {
      const [actor, connection, intent] = args;
      const action = `access.${intent}`;
      const started = performance.now();
      let result: Awaited<ReturnType<CredentialsService['sessionForData']>>;
      try {
        result = await inner.sessionForData(...args);
      } catch (error) {
        await trail.record(
          withRequestFacts(actor, {
            action,
            connection,
            ...outcomeOf(error),
            durationMs: Math.round(performance.now() - started),
          }),
        );
        throw error;
      }
      const { session, scope } = result;
      const facts = {
        connection,
        roleArn: session.roleArn,
        sessionName: session.sessionName,
        accessKeyId: session.credentials.accessKeyId,
        bucket: scope.bucket,
      };
      await trail.record(
        withRequestFacts(actor, {
          action,
          connection,
          roleArn: facts.roleArn,
          sessionName: facts.sessionName,
          accessKeyId: facts.accessKeyId,
          bucket: facts.bucket,
          key: scope.prefix,
          outcome: 'allowed',
          durationMs: Math.round(performance.now() - started),
        }),
      );
      const ctx = currentRequestContext();
      if (ctx !== undefined) ctx.decision = facts;
      return result;
    },
  };
}
