import { RolegateError } from '../../errors/errors.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, withRequestFacts } from '../audit/audited-credentials.js';
import type { SigningFacts, SigningService } from './signing.service.js';

/** The non-secret facts a refusal carries (the domain puts method, bucket and key in its details). */
function refusalFacts(error: unknown): { bucket?: string; key?: string; details?: Record<string, string> } {
  if (!(error instanceof RolegateError)) return {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const method = str(error.details.method);
  return {
    bucket: str(error.details.bucket),
    key: str(error.details.key),
    ...(method === undefined ? {} : { details: { method } }),
  };
}

/**
 * Wraps the signing service so that every sign and presign decision is recorded once, allowed or refused, with
 * the connection, role session name, bucket, key and method: never the signature, the token or the URL's query.
 * Fail-closed: when the trail cannot record an allowed signature, the caller gets the audit error, not the
 * signature.
 */
export function auditSigning(inner: SigningService, trail: Pick<AuditTrail, 'record'>): SigningService {
  async function audited<T extends { facts: SigningFacts }>(
    action: string,
    actor: Parameters<SigningService['sign']>[0],
    connection: string,
    run: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let result: T;
    try {
      result = await run();
    } catch (error) {
      await trail.record(
        withRequestFacts(actor, {
          action,
          connection,
          ...refusalFacts(error),
          ...outcomeOf(error),
          durationMs: Math.round(performance.now() - started),
        }),
      );
      throw error;
    }
    const f = result.facts;
    await trail.record(
      withRequestFacts(actor, {
        action,
        connection,
        roleArn: f.roleArn,
        sessionName: f.sessionName,
        accessKeyId: f.accessKeyId,
        bucket: f.bucket,
        key: f.key,
        outcome: 'allowed',
        durationMs: Math.round(performance.now() - started),
        // A reusable signature may serve further reads of the same object for a while, unseen by rolegate.
        details: {
          method: f.method,
          operation: f.operation,
          ...(f.reusable ? { reusable: true } : {}),
          ...(f.objects === undefined ? {} : { objects: f.objects }),
        },
      }),
    );
    return result;
  }

  return {
    sign: (actor, connection, request) =>
      audited('signing.sign', actor, connection, () => inner.sign(actor, connection, request)),
    presign: (actor, connection, request) =>
      audited('signing.presign', actor, connection, () => inner.presign(actor, connection, request)),
  };
}
