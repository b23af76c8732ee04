import { type App, createApp } from './app.js';
import { loadConfig } from './config/load.js';

/** Loads the configuration, starts the server, and drains it on SIGTERM/SIGINT. */
export async function serve(options: { configFile?: string | undefined } = {}): Promise<App> {
  const config = loadConfig({ file: options.configFile });
  const app = await createApp({ config });
  await app.http.listen({ host: config.server.host, port: config.server.port });
  const stop = async (signal: string) => {
    app.logger.info({ signal }, 'shutting down');
    await app.close();
    process.exitCode = 0;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return app;
}
