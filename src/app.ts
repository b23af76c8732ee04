import { resolve } from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { type CredentialSource, fromEnvironmentChain } from './cloud/aws/environment-credentials.js';
import { S3ClientPool } from './cloud/aws/s3.js';
import { createStsGateway, type StsGateway } from './cloud/aws/sts.js';
import type { RolegateConfig } from './config/schema.js';
import { loadVaultKey } from './config/vault-key.js';
import { connectDatabase, type Db } from './db/connect.js';
import { createHttpServer, type HttpApp } from './http/server.js';
import { type Clock, systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import { SecretBox } from './lib/secret-box.js';
import { connectionsRoutes } from './modules/connections/connections.routes.js';
import { type ConnectionsService, createConnectionsService } from './modules/connections/connections.service.js';
import { createConnectionStore } from './modules/connections/connections.store.js';
import { type CredentialEngine, createCredentialEngine } from './modules/credentials/credential-engine.js';
import { credentialsRoutes } from './modules/credentials/credentials.routes.js';
import { type CredentialsService, createCredentialsService } from './modules/credentials/credentials.service.js';
import { createVaultStore } from './modules/credentials/vault.store.js';
import { dataRoutes } from './modules/data/data.routes.js';
import { createDataService, type DataService } from './modules/data/data.service.js';
import { identityRoutes } from './modules/identity/identity.routes.js';
import { createIdentityService, type IdentityService } from './modules/identity/identity.service.js';
import { createIdentityStore } from './modules/identity/identity.store.js';

export interface AppOptions {
  readonly config: RolegateConfig;
  readonly env?: NodeJS.ProcessEnv;
  /** Where log lines go (default stdout); tests capture them to prove no secret is logged. */
  readonly logDestination?: DestinationStream;
  /** Master credentials for `environment` modes; default the AWS default chain of this process. */
  readonly environmentCredentials?: CredentialSource;
  readonly sts?: StsGateway;
  readonly clock?: Clock;
}

export interface Services {
  readonly identity: IdentityService;
  readonly connections: ConnectionsService;
  readonly credentials: CredentialsService;
  readonly data: DataService;
}

export interface App {
  readonly config: RolegateConfig;
  readonly http: HttpApp;
  readonly services: Services;
  readonly engine: CredentialEngine;
  readonly logger: Logger;
  readonly db: Db;
  /** Stops accepting, waits for in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** The one composition root: stores, AWS clients, services, transports. No I/O happens at import time. */
export async function createApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.log.level, options.logDestination);
  const dataDir = resolve(config.dataDir);
  const db = await connectDatabase(config.database.url ?? `sqlite:${resolve(dataDir, 'rolegate.db')}`);
  const box = new SecretBox(loadVaultKey(config.secretKeyFile ?? resolve(dataDir, 'secret.key'), env));

  const vault = createVaultStore(db, box);
  const engine = createCredentialEngine({
    sts:
      options.sts ??
      createStsGateway({ timeoutMs: config.credentials.stsTimeoutMs, maxAttempts: config.credentials.stsMaxAttempts }),
    vault,
    environmentCredentials: options.environmentCredentials ?? fromEnvironmentChain(),
    clock,
    settings: config.credentials,
    onRefreshError: (err) => logger.warn({ err }, 'background role session refresh failed'),
  });
  const identity = createIdentityService({
    store: createIdentityStore(db),
    clock,
    onUserChanged: (userId) => engine.forgetUser(userId),
  });
  const connections = createConnectionsService({
    store: createConnectionStore(db),
    vault,
    clock,
    onConnectionChanged: (name) => engine.forgetConnection(name),
  });
  const credentials = createCredentialsService({ connections, engine });
  const s3 = new S3ClientPool();
  const data = createDataService({ credentials, s3 });

  const http = await createHttpServer({
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    authenticate: (token) => identity.authenticate(token),
    routes: [
      identityRoutes(identity),
      connectionsRoutes(connections),
      credentialsRoutes(credentials),
      dataRoutes(data),
    ],
  });

  return {
    config,
    http,
    services: { identity, connections, credentials, data },
    engine,
    logger,
    db,
    async close() {
      await http.close();
      s3.destroy();
      await db.destroy();
    },
  };
}
