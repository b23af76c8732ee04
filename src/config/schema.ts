import { z } from 'zod';
import { federationConfigSchema } from './federation.js';

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * The whole configuration. Deliberately small: anything a connection needs lives in the store, not here.
 * No secret has a default: the vault key comes from ROLEGATE_SECRET_KEY or a key file created on first start.
 */
export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8630),
        /** Public base URL used in printed snippets; defaults to http://host:port. */
        publicUrl: z.url().optional(),
        bodyLimitBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        /** On shutdown, requests in flight may finish for this long before their connections are cut. */
        drainSeconds: z.number().int().min(0).max(3600).default(30),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8630, bodyLimitBytes: 1024 * 1024, drainSeconds: 30 }),
    dataDir: z.string().min(1).default('./.rolegate'),
    database: z
      .object({
        /** `sqlite:` + file path; default `<dataDir>/rolegate.db`. */
        url: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** Path of the vault key file (32 random bytes, mode 0600); default `<dataDir>/secret.key`. */
    secretKeyFile: z.string().min(1).optional(),
    log: z
      .object({ level: logLevel.default('info') })
      .strict()
      .default({ level: 'info' }),
    credentials: z
      .object({
        /** Refresh a cached role session this long before it expires (capped at half its lifetime). */
        refreshAheadSeconds: z.number().int().min(0).max(3600).default(300),
        /** Most role sessions kept in memory at once (least recently used are dropped). */
        cacheMaxEntries: z.number().int().min(1).default(10_000),
        stsTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
        stsMaxAttempts: z.number().int().min(1).max(10).default(3),
        /** STS budget per master identity (per instance); unset: no limit beyond STS's own. */
        stsRateLimit: z
          .object({
            perSecond: z.number().positive().max(10_000),
            burst: z.number().int().min(1).max(100_000),
            /** A request waits at most this long for the budget, then fails with `sts.rate_limited`. */
            maxWaitMs: z.number().int().min(0).max(60_000).default(2_000),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ refreshAheadSeconds: 300, cacheMaxEntries: 10_000, stsTimeoutMs: 5_000, stsMaxAttempts: 3 }),
    /** The S3-compatible gateway (slow path for S3 clients): its own listener beside the API. */
    gateway: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8631),
        /** Also serve virtual-host-style requests, `<connection>.<domain>`; path-style always works. */
        domain: z.string().min(1).optional(),
        /** The region clients are told (GetBucketLocation); they may sign with any. */
        region: z.string().min(1).default('us-east-1'),
        /** A multipart upload without activity for this long is aborted (its client is gone). */
        multipartIdleSeconds: z.number().int().min(1).max(604_800).default(3600),
      })
      .strict()
      .default({ enabled: true, host: '127.0.0.1', port: 8631, region: 'us-east-1', multipartIdleSeconds: 3600 }),
    /** Remote signing (src/modules/signing). */
    signing: z
      .object({
        /**
         * Object reads (GET, HEAD) are signed over the URI, host and x-amz-* headers and answered
         * `Cache-Control: private`, so Iceberg's signer client reuses one signature for its ranged reads of a file
         * for up to 30 s (one signing call and one audit event per file, not per read). Off: every read is signed,
         * checked and audited alone, with all its headers signed.
         */
        reusableReads: z.boolean().default(true),
      })
      .strict()
      .default({ reusableReads: true }),
    /** Multipart uploads left behind by a crash or a vanished client (src/modules/data/pending-uploads.service.ts). */
    multipart: z
      .object({
        /** How often recorded uploads are swept (and this instance's own ones marked alive); also at start-up. */
        sweepSeconds: z.number().int().min(1).max(86_400).default(120),
        /** A gateway client's multipart upload still open this long after its start is aborted by the sweep. */
        gatewayMaxAgeSeconds: z
          .number()
          .int()
          .min(1)
          .max(30 * 86_400)
          .default(86_400),
      })
      .strict()
      .default({ sweepSeconds: 120, gatewayMaxAgeSeconds: 86_400 }),
    audit: z
      .object({
        /** Where events go. The database sink keeps the hash chain that `audit verify` checks. */
        sinks: z
          .array(
            z.discriminatedUnion('type', [
              z.object({ type: z.literal('database') }).strict(),
              z
                .object({
                  type: z.literal('file'),
                  path: z.string().min(1),
                  maxBytes: z
                    .number()
                    .int()
                    .positive()
                    .default(100 * 1024 * 1024),
                  maxFiles: z.number().int().min(1).max(1000).default(10),
                })
                .strict(),
              z
                .object({
                  type: z.literal('webhook'),
                  url: z.url(),
                  headers: z.record(z.string(), z.string()).optional(),
                })
                .strict(),
            ]),
          )
          .min(1)
          .default([{ type: 'database' }]),
        /** A request goes on only when at least this many sinks accepted its events (fail-closed). */
        minAccepted: z.number().int().min(1).default(1),
        /** A sink that has not answered by then counts as refusing; the request fails instead of hanging. */
        timeoutMs: z.number().int().min(10).max(60_000).default(2_000),
        /** Archive (to `<dataDir>/audit-archive`) and delete events older than this many days; unset keeps all. */
        retentionDays: z.number().int().min(1).optional(),
      })
      .strict()
      .refine((a) => a.minAccepted <= a.sinks.length, { message: 'minAccepted is larger than the number of sinks' })
      .default({ sinks: [{ type: 'database' }], minAccepted: 1, timeoutMs: 2_000 }),
    /** Single sign-on (see federation.ts); absent: local users with API tokens only. */
    federation: federationConfigSchema.default({}),
  })
  .strict();

export type RolegateConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
