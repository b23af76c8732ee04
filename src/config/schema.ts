import { z } from 'zod';

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
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8630, bodyLimitBytes: 1024 * 1024 }),
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
      })
      .strict()
      .default({ refreshAheadSeconds: 300, cacheMaxEntries: 10_000, stsTimeoutMs: 5_000, stsMaxAttempts: 3 }),
  })
  .strict();

export type RolegateConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
