import { Readable } from 'node:stream';
import { z } from 'zod';
import { principal } from '../../http/auth.js';
import type { HttpApp } from '../../http/server.js';
import type { ExplainService } from '../explain/explain.service.js';
import type { AuditService } from './audit.service.js';

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 time');

const optional = z.string().optional();
export const auditEventSchema = z.object({
  seq: z.number(),
  id: z.string(),
  time: z.string(),
  requestId: optional,
  actor: optional,
  authMethod: optional,
  sourceIp: optional,
  userAgent: optional,
  action: z.string(),
  connection: optional,
  roleArn: optional,
  sessionName: optional,
  accessKeyId: optional,
  bucket: optional,
  key: optional,
  bytes: z.number().optional(),
  outcome: z.enum(['requested', 'allowed', 'denied', 'error']),
  reasonCode: optional,
  durationMs: z.number().optional(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEventResponse = z.infer<typeof auditEventSchema>;

/** Audit search (admins: all; users: their own), chain verification, export, and explain. */
export function auditRoutes(audit: AuditService, explain: ExplainService) {
  return async (app: HttpApp) => {
    app.get(
      '/api/audit',
      {
        schema: {
          tags: ['audit'],
          querystring: z
            .object({
              user: z.string().optional(),
              connection: z.string().optional(),
              action: z.string().optional(),
              outcome: z.enum(['requested', 'allowed', 'denied', 'error']).optional(),
              sessionName: z.string().optional(),
              keyPrefix: z.string().optional(),
              since: isoTime.optional(),
              until: isoTime.optional(),
              before: z.coerce.number().int().positive().optional(),
              limit: z.coerce.number().int().min(1).max(1000).optional(),
            })
            .strict(),
          response: { 200: z.object({ events: z.array(auditEventSchema), nextBefore: z.number().optional() }) },
        },
      },
      async (req) => {
        const q = req.query;
        return audit.search(principal(req), { ...q, actor: q.user, beforeSeq: q.before });
      },
    );

    app.get('/api/audit/verify', { schema: { tags: ['audit'] } }, async (req) => audit.verify(principal(req)));

    app.get(
      '/api/audit/unfinished',
      {
        schema: {
          tags: ['audit'],
          description: 'Changes recorded as requested whose end was never recorded (admins).',
          querystring: z.object({
            since: isoTime.optional(),
            /** Younger ones may still be running (default 60). */
            olderThanSeconds: z.coerce.number().int().min(0).max(86_400).optional(),
          }),
          response: { 200: z.object({ events: z.array(auditEventSchema) }) },
        },
      },
      async (req) => {
        const { since, olderThanSeconds } = req.query;
        const settleMs = olderThanSeconds === undefined ? undefined : olderThanSeconds * 1000;
        return { events: await audit.unfinished(principal(req), { since, settleMs }) };
      },
    );

    app.get(
      '/api/audit/export',
      {
        schema: {
          tags: ['audit'],
          querystring: z.object({
            since: isoTime.optional(),
            until: isoTime.optional(),
            format: z.enum(['jsonl', 'csv']).default('jsonl'),
          }),
        },
      },
      async (req, reply) => {
        const { since, until, format } = req.query;
        const lines = audit.export(principal(req), { since, until }, format);
        // Pull the first chunk now so a permission error becomes a proper error response, not a broken stream.
        const first = await lines.next();
        void reply.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
        return reply.send(
          Readable.from(
            (async function* () {
              if (first.done !== true) yield first.value;
              yield* lines;
            })(),
          ),
        );
      },
    );

    app.get(
      '/api/explain',
      {
        config: { audit: 'explain' },
        schema: {
          tags: ['audit'],
          querystring: z.object({
            user: z.string(),
            connection: z.string(),
            key: z.string().optional(),
            write: z.enum(['true', 'false']).optional(),
          }),
        },
      },
      async (req) => {
        const { user, connection, key, write } = req.query;
        return explain.explain(principal(req), { user, connection, key, write: write === 'true' });
      },
    );
  };
}
