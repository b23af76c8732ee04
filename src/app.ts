import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import type { DestinationStream, Logger } from 'pino';
import { type CredentialSource, fromEnvironmentChain } from './cloud/aws/environment-credentials.js';
import { createGlueGateway } from './cloud/aws/glue.js';
import { createIamGateway } from './cloud/aws/iam.js';
import { S3ClientPool } from './cloud/aws/s3.js';
import { createStsGateway, type StsGateway } from './cloud/aws/sts.js';
import type { RolegateConfig } from './config/schema.js';
import { loadVaultKey } from './config/vault-key.js';
import { connectDatabase, type Db, dialectOf } from './db/connect.js';
import { createS3Gateway, type S3Gateway } from './gateway/server.js';
import { createHttpServer, type HttpApp } from './http/server.js';
import { type Clock, systemClock } from './lib/clock.js';
import { createLogger } from './lib/logger.js';
import { SecretBox } from './lib/secret-box.js';
import { randomId } from './lib/tokens.js';
import { auditHttpRequest, auditHttpResponse } from './modules/audit/audit.http.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { type AuditService, createAuditService } from './modules/audit/audit.service.js';
import { createAuditStore } from './modules/audit/audit.store.js';
import { type AuditTrail, createAuditTrail } from './modules/audit/audit-trail.js';
import { auditCredentials } from './modules/audit/audited-credentials.js';
import { buildAuditSinks } from './modules/audit/sinks.js';
import { catalogRoutes } from './modules/catalog/catalog.routes.js';
import { createCatalogService } from './modules/catalog/catalog.service.js';
import { createCatalogStore } from './modules/catalog/catalog.store.js';
import { createDatasetStorage } from './modules/catalog/dataset-storage.js';
import { datasetsRoutes } from './modules/catalog/datasets.routes.js';
import { createDatasetsService } from './modules/catalog/datasets.service.js';
import { createCluster } from './modules/cluster/cluster.js';
import { configRoutes } from './modules/config-as-code/config.routes.js';
import { createConfigService } from './modules/config-as-code/config.service.js';
import { connectionTestRoutes } from './modules/connections/connection-test.js';
import { connectionsRoutes } from './modules/connections/connections.routes.js';
import { type ConnectionsService, createConnectionsService } from './modules/connections/connections.service.js';
import { createConnectionStore } from './modules/connections/connections.store.js';
import { type CredentialEngine, createCredentialEngine } from './modules/credentials/credential-engine.js';
import { credentialsRoutes } from './modules/credentials/credentials.routes.js';
import { type CredentialsService, createCredentialsService } from './modules/credentials/credentials.service.js';
import { budgetedSts } from './modules/credentials/sts-budget.js';
import { createVaultStore } from './modules/credentials/vault.store.js';
import { dataRoutes } from './modules/data/data.routes.js';
import { createDataService, type DataService } from './modules/data/data.service.js';
import { createMultipartService } from './modules/data/multipart.service.js';
import { createObjectsService } from './modules/data/objects.service.js';
import { createPendingUploadsService, type PendingUploadsService } from './modules/data/pending-uploads.service.js';
import { createPendingUploadStore } from './modules/data/pending-uploads.store.js';
import { createExplainService, type ExplainService } from './modules/explain/explain.service.js';
import { createExecTokensService } from './modules/fastpath/exec-tokens.service.js';
import { fastpathRoutes } from './modules/fastpath/fastpath.routes.js';
import { createFastpathStore } from './modules/fastpath/fastpath.store.js';
import { createRevocationService } from './modules/fastpath/revocation.service.js';
import { createFederationStore } from './modules/federation/federation.store.js';
import { createLoginStateStore } from './modules/federation/login-state.store.js';
import { mountsRoutes } from './modules/federation/mounts.routes.js';
import { createMountsService } from './modules/federation/mounts.service.js';
import { oidcRoutes } from './modules/federation/oidc.routes.js';
import { createOidcStore } from './modules/federation/oidc.store.js';
import { createOidcLoginService } from './modules/federation/oidc-login.service.js';
import { createOidcProviderClient } from './modules/federation/oidc-provider-client.js';
import { samlRoutes } from './modules/federation/saml.routes.js';
import { createSamlLoginService } from './modules/federation/saml-login.service.js';
import { sessionsRoutes } from './modules/federation/sessions.routes.js';
import { createSessionsService, isSessionToken } from './modules/federation/sessions.service.js';
import { gatewayKeysRoutes } from './modules/gateway-keys/gateway-keys.routes.js';
import { createGatewayKeysService } from './modules/gateway-keys/gateway-keys.service.js';
import { createGatewayKeyStore } from './modules/gateway-keys/gateway-keys.store.js';
import { identityRoutes } from './modules/identity/identity.routes.js';
import { createIdentityService, type IdentityService } from './modules/identity/identity.service.js';
import { createIdentityStore } from './modules/identity/identity.store.js';
import { createMetrics, type Metrics, measuredSink, measuredSts } from './modules/ops/metrics.js';
import { observeResponses, opsRoutes } from './modules/ops/ops.routes.js';
import { auditSigning } from './modules/signing/audited-signing.js';
import { signingRoutes } from './modules/signing/signing.routes.js';
import { createSigningService } from './modules/signing/signing.service.js';

export interface AppOptions {
  readonly config: RolegateConfig;
  readonly env?: NodeJS.ProcessEnv;
  /** Where log lines go (default stdout); tests capture them to prove no secret is logged. */
  readonly logDestination?: DestinationStream;
  /** Master credentials for `environment` modes; default the AWS default chain of this process. */
  readonly environmentCredentials?: CredentialSource;
  readonly sts?: StsGateway;
  readonly clock?: Clock;
  /**
   * Shortest role session a caller may ask for; default 900 (STS's minimum). Tests against an RGW whose
   * minimum was lowered pass less.
   */
  readonly minSessionSeconds?: number;
}

export interface Services {
  readonly identity: IdentityService;
  readonly connections: ConnectionsService;
  readonly credentials: CredentialsService;
  readonly data: DataService;
  readonly audit: AuditService;
  readonly explain: ExplainService;
}

export interface App {
  readonly config: RolegateConfig;
  readonly http: HttpApp;
  /** The S3-compatible gateway; listens only when told to (`serve` does when `gateway.enabled`). */
  readonly gateway: S3Gateway;
  readonly services: Services;
  readonly engine: CredentialEngine;
  readonly trail: AuditTrail;
  /**
   * Multipart uploads recorded until they end, and the sweep that aborts what a crash left behind (`serve` starts
   * it; one-off commands on the same store must not sweep a running server's uploads).
   */
  readonly pendingUploads: PendingUploadsService;
  readonly metrics: Metrics;
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
  const databaseUrl = config.database.url ?? `sqlite:${resolve(dataDir, 'rolegate.db')}`;
  const db = await connectDatabase(databaseUrl);
  const box = new SecretBox(loadVaultKey(config.secretKeyFile ?? resolve(dataDir, 'secret.key'), env));
  // Several instances on one PostgreSQL: changes are announced to all, role sessions shared between them.
  const cluster = await createCluster({ db, url: databaseUrl, box, logger });

  const vault = createVaultStore(db, box);
  const metrics = createMetrics(() => engine.stats());
  const stsGateway = createStsGateway({
    timeoutMs: config.credentials.stsTimeoutMs,
    maxAttempts: config.credentials.stsMaxAttempts,
  });
  const measured = measuredSts(options.sts ?? stsGateway, metrics);
  const oidcStore = createOidcStore(db, box);
  const budget = config.credentials.stsRateLimit;
  const engine = createCredentialEngine({
    // Outside the measurement: time spent waiting for the budget is not STS latency.
    sts:
      budget === undefined
        ? measured
        : budgetedSts(measured, budget, {
            clock,
            // Several instances on PostgreSQL share one budget: together they stay within the quota.
            ledger: cluster.stsLedger?.(budget),
            onOutcome: (outcome) => metrics.stsBudget.inc({ outcome }),
          }),
    vault,
    environmentCredentials: options.environmentCredentials ?? fromEnvironmentChain(),
    clock,
    settings: config.credentials,
    onRefreshError: (err) => logger.warn({ err }, 'background role session refresh failed'),
    // Revocation rotates session names and must know every issued one (the service is built below).
    sessionGenerations: { current: (userId, connection) => revocations.currentGeneration(userId, connection) },
    onIssued: (issued) => revocations.recordIssued(issued),
    iam: createIamGateway({
      timeoutMs: config.credentials.stsTimeoutMs,
      maxAttempts: config.credentials.stsMaxAttempts,
    }),
    sharedSessions: cluster.sharedSessions,
    // Direct OIDC federation: no master credentials, the session's ID token (never budgeted per master identity).
    webIdentity: {
      sts: stsGateway,
      idTokenOf: (sessionId) => oidcStore.sessionIdToken(sessionId, clock.now()),
    },
    // Direct SAML federation: no master credentials, the session's SAML response.
    saml: {
      sts: stsGateway,
      assertionOf: (sessionId) => oidcStore.sessionSamlAssertion(sessionId, clock.now()),
    },
  });
  const identity = createIdentityService({
    store: createIdentityStore(db),
    clock,
    onUserChanged: (userId) => {
      engine.forgetUser(userId);
      cluster.publish({ kind: 'user', userId });
    },
    onTokenRevoked: (userId) => cluster.publish({ kind: 'tokens', userId }),
  });
  const connections = createConnectionsService({
    store: createConnectionStore(db),
    vault,
    clock,
    onConnectionChanged: (name) => {
      engine.forgetConnection(name);
      cluster.publish({ kind: 'connection', name });
    },
  });
  // Config as code applies through its own transaction-bound stores; caches here and elsewhere learn after commit.
  const configAsCode = createConfigService({
    db,
    box,
    clock,
    onUserChanged: (userId) => {
      identity.forgetCachedUser(userId);
      engine.forgetUser(userId);
      cluster.publish({ kind: 'user', userId });
    },
    onConnectionChanged: (name) => {
      connections.forgetCached(name);
      engine.forgetConnection(name);
      cluster.publish({ kind: 'connection', name });
    },
  });
  const auditStore = createAuditStore(db);
  const trail = createAuditTrail({
    // Relative file-sink paths live in the data directory, beside the store.
    sinks: buildAuditSinks(
      config.audit.sinks.map((c) => (c.type === 'file' ? { ...c, path: resolve(dataDir, c.path) } : c)),
      auditStore,
      config.audit.timeoutMs,
    ).map((sink) => measuredSink(sink, metrics)),
    store: auditStore,
    minAccepted: config.audit.minAccepted,
    timeoutMs: config.audit.timeoutMs,
    clock,
    logger,
  });
  const audit = createAuditService({ store: auditStore, clock });
  // Every credential and data decision passes here, so this one wrapper audits them all, fail-closed.
  const credentials = auditCredentials(
    createCredentialsService({ connections, engine, minSessionSeconds: options.minSessionSeconds }),
    trail,
  );
  const fastpathStore = createFastpathStore(db);
  const revocations = createRevocationService({
    store: fastpathStore,
    connectionStore: createConnectionStore(db),
    connections,
    identity,
    engine,
    clock,
    onRevoked: (userId, connection) => cluster.publish({ kind: 'revocation', userId, connection }),
  });
  cluster.follow({ identity, connections, engine, revocations });
  // Remote signing: the same resolve → decide → obtain pipeline; the role session signs, it is never handed out.
  const signing = auditSigning(
    createSigningService({ connections, engine, clock, reusableReads: config.signing.reusableReads }),
    trail,
  );
  const execTokens = createExecTokensService({ store: fastpathStore, identity, credentials, clock });
  const explain = createExplainService({ identity, connections, vault });
  const federationStore = createFederationStore(db);
  const sessions = createSessionsService({ store: federationStore, identity, trail, clock });
  const loginStates = createLoginStateStore(db, box);
  const oidc = config.federation.oidc;
  const oidcLogins =
    oidc &&
    createOidcLoginService({
      config: oidc,
      provider: createOidcProviderClient(oidc, oidcClientSecret(oidc.clientSecretFile, env)),
      identity,
      links: oidcStore,
      roles: federationStore,
      sessions,
      trail,
      states: loginStates,
      clock,
    });
  const saml = config.federation.saml;
  const samlLogins =
    saml &&
    createSamlLoginService({
      config: saml,
      idpCert: readFileSync(saml.idpCertFile, 'utf8'),
      identity,
      links: oidcStore,
      roles: federationStore,
      sessions,
      trail,
      states: loginStates,
      clock,
    });
  const s3 = new S3ClientPool();
  // Multipart uploads are recorded until they end; a sweep (now, and periodically) aborts what a crash left.
  const pendingUploads = createPendingUploadsService({
    store: createPendingUploadStore(db),
    credentials,
    s3,
    owners: {
      principalOf: (userId, sessionId) =>
        sessionId === null ? identity.principalById(userId) : sessions.principalOfSession(userId, sessionId),
    },
    trail,
    clock,
    logger,
    instanceId: randomId('ins'),
    exclusiveStore: dialectOf(db) === 'sqlite',
    sweepIntervalMs: config.multipart.sweepSeconds * 1000,
    gatewayMaxAgeMs: config.multipart.gatewayMaxAgeSeconds * 1000,
  });
  const data = createDataService({ credentials, s3, pending: pendingUploads });
  const mounts = createMountsService({ store: federationStore, connections, sessions, data, trail, clock });
  // Datasets and the catalog explorer: S3 and Glue calls as the user, through the audited credentials service.
  const catalogStore = createCatalogStore(db);
  const glue = createGlueGateway({
    timeoutMs: config.credentials.stsTimeoutMs,
    maxAttempts: config.credentials.stsMaxAttempts,
  });
  const catalog = createCatalogService({ store: catalogStore, credentials, connections, glue, clock });
  const datasets = createDatasetsService({
    store: catalogStore,
    storage: createDatasetStorage({ credentials, s3, findBinding: (c) => catalogStore.findBinding(c) }),
    data,
    glue,
    clock,
  });
  const multipart = createMultipartService({
    credentials,
    s3,
    clock,
    idleTimeoutMs: config.gateway.multipartIdleSeconds * 1000,
    pending: pendingUploads,
    onReapError: (err, upload) =>
      logger.warn({ err, connection: upload.connection }, 'could not abort an idle multipart upload'),
  });
  const gatewayKeys = createGatewayKeysService({ store: createGatewayKeyStore(db, box), identity, clock });
  const gateway = createS3Gateway({
    objects: createObjectsService({ credentials, s3 }),
    multipart,
    connections,
    mounts,
    keys: gatewayKeys,
    logger,
    clock,
    region: config.gateway.region,
    domain: config.gateway.domain,
    audit: trail,
    onBytes: (direction, bytes) => metrics.bytes.inc({ transport: 'gateway', direction }, bytes),
  });

  const http = await createHttpServer({
    logger,
    bodyLimitBytes: config.server.bodyLimitBytes,
    // Session tokens carry a rolegate session (and its role); every other token is an API token.
    authenticate: (token) => (isSessionToken(token) ? sessions.authenticate(token) : identity.authenticate(token)),
    auditRequest: auditHttpRequest(trail),
    auditResponse: auditHttpResponse(trail),
    observe: observeResponses(metrics),
    routes: [
      identityRoutes(identity),
      sessionsRoutes(sessions),
      ...(oidc && oidcLogins ? [oidcRoutes(oidcLogins, { redirectUri: oidc.redirectUri })] : []),
      ...(samlLogins ? [samlRoutes(samlLogins)] : []),
      mountsRoutes(mounts),
      connectionsRoutes(connections),
      configRoutes(configAsCode),
      connectionTestRoutes({ identity, connections, data }),
      credentialsRoutes(credentials),
      signingRoutes(signing),
      dataRoutes(data),
      catalogRoutes(catalog),
      datasetsRoutes(datasets),
      gatewayKeysRoutes(gatewayKeys),
      auditRoutes(audit, explain),
      fastpathRoutes({
        credentials,
        connections,
        execTokens,
        revocations,
        publicUrl: config.server.publicUrl,
        gateway: { url: () => gateway.url(), region: config.gateway.region },
      }),
      opsRoutes(metrics, [
        { name: 'database', check: async () => void (await sql`select 1`.execute(db)) },
        { name: 'vault key', check: async () => void box.open(box.seal('probe', 'readyz'), 'readyz') },
        { name: 'audit trail', check: async () => void (await auditStore.head()) },
      ]),
    ],
  });

  return {
    config,
    http,
    gateway,
    services: { identity, connections, credentials, data, audit, explain },
    pendingUploads,
    trail,
    metrics,
    engine,
    logger,
    db,
    async close() {
      await gateway.close();
      multipart.close();
      await pendingUploads.close();
      // Drain: requests in flight may finish until the deadline, then their connections are cut.
      const deadline = setTimeout(() => http.server.closeAllConnections(), config.server.drainSeconds * 1000);
      await http.close();
      clearTimeout(deadline);
      await trail.flush();
      await auditStore.close();
      s3.destroy();
      await cluster.close();
      await db.destroy();
    },
  };
}

/** The OIDC client secret: ROLEGATE_OIDC_CLIENT_SECRET, else the configured file; none makes a public client. */
function oidcClientSecret(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const fromEnv = env.ROLEGATE_OIDC_CLIENT_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return file === undefined ? undefined : readFileSync(file, 'utf8').trim();
}
