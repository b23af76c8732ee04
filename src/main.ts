import { resolve } from 'node:path';
import { type App, createApp } from './app.js';
import { loadConfig } from './config/load.js';
import { captureProcessWarnings } from './lib/process-warnings.js';

const DAY_MS = 86_400_000;

/** Archives and removes audit events older than the retention period, now and then daily. */
function scheduleAuditRetention(app: App): NodeJS.Timeout | undefined {
  const days = app.config.audit.retentionDays;
  if (days === undefined) return undefined;
  const archiveDir = resolve(app.config.dataDir, 'audit-archive');
  const run = async () => {
    const before = new Date(Date.now() - days * DAY_MS).toISOString();
    try {
      const { archived, file } = await app.services.audit.applyRetention(before, archiveDir);
      if (archived > 0) app.logger.info({ archived, file }, 'audit events archived');
    } catch (err) {
      app.logger.error({ err }, 'audit retention failed');
    }
  };
  void run();
  const timer = setInterval(() => void run(), DAY_MS);
  timer.unref();
  return timer;
}

/** Loads the configuration, starts the server, and drains it on SIGTERM/SIGINT. */
export async function serve(options: { configFile?: string | undefined } = {}): Promise<App> {
  const warnings = captureProcessWarnings();
  const config = loadConfig({ file: options.configFile });
  const app = await createApp({ config });
  warnings.logTo(app.logger);
  await app.http.listen({ host: config.server.host, port: config.server.port });
  if (config.gateway.enabled) {
    const endpoint = await app.gateway.listen({ host: config.gateway.host, port: config.gateway.port });
    app.logger.info({ endpoint }, 'S3 gateway listening');
  }
  const retention = scheduleAuditRetention(app);
  // Aborts the multipart uploads a previous run left in S3 (killed mid-upload), then keeps sweeping.
  app.pendingUploads.start();
  const stop = async (signal: string) => {
    app.logger.info({ signal }, 'shutting down');
    clearInterval(retention);
    await app.close();
    process.exitCode = 0;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return app;
}
