/**
 * The S3-compatible gateway: its own HTTP listener (S3 clients want the whole URL space: path-style buckets
 * collide with /api), sharing the app's services. Per request: SigV4 authentication with a gateway key (looked
 * up every time, so revocation is instant), operation selection (deny by default), one service call, and S3 XML
 * errors with a request id. The request is audited by the services it calls (every data decision is).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { storeUnavailable } from '../db/store-errors.js';
import type { AuditOutcome } from '../domain/audit-event.js';
import { invalidInput, isRolegateError, RolegateError, unauthenticated } from '../errors/errors.js';
import { s3ErrorOf } from '../errors/s3-error-code.js';
import type { Clock } from '../lib/clock.js';
import { type RequestContext, runWithRequestContext } from '../lib/request-context.js';
import { el, xmlDocument } from '../lib/xml.js';
import type { AuditTrail } from '../modules/audit/audit-trail.js';
import type { GatewayKeysService } from '../modules/gateway-keys/gateway-keys.service.js';
import * as bucketOps from './bucket-operations.js';
import { type GatewayServices, MOUNT_BUCKET } from './bucket-operations.js';
import type { Exchange } from './exchange.js';
import { mountHandler } from './mount-operations.js';
import * as objectOps from './object-operations.js';
import { type Operation, selectOperation, type Target, targetOf } from './router.js';
import { headerMap, parseAuthentication, parseQuery, verifySignature } from './sigv4.js';

export interface S3GatewayDeps extends GatewayServices {
  readonly keys: Pick<GatewayKeysService, 'resolve'>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The region reported to clients (GetBucketLocation, x-amz-bucket-region). */
  readonly region: string;
  /** Serve `<connection>.<domain>` virtual-host-style requests too. */
  readonly domain?: string | undefined;
  /** Records one operation event per request (the decision before it is recorded by the credentials service). */
  readonly audit?: Pick<AuditTrail, 'record'> | undefined;
  /** Counts object bytes moved through the gateway. */
  readonly onBytes?: ((direction: 'in' | 'out', bytes: number) => void) | undefined;
}

const BYTES_IN: ReadonlySet<Operation> = new Set(['PutObject', 'UploadPart']);

function outcomeOfStatus(status: number): AuditOutcome {
  if (status < 400) return 'allowed';
  return status === 401 || status === 403 || status === 404 ? 'denied' : 'error';
}

export interface S3Gateway {
  /** Starts listening; resolves to the endpoint URL. */
  listen(options: { host: string; port: number }): Promise<string>;
  /** The endpoint URL once listening. */
  url(): string | undefined;
  /** Stops accepting, then closes open connections. */
  close(): Promise<void>;
}

const HANDLERS: Readonly<Record<Operation, (x: Exchange, s: GatewayServices) => Promise<void>>> = {
  ListBuckets: bucketOps.listBuckets,
  HeadBucket: bucketOps.headBucket,
  CreateBucket: bucketOps.createBucket,
  GetBucketLocation: bucketOps.getBucketLocation,
  GetBucketVersioning: bucketOps.getBucketVersioning,
  ListObjects: bucketOps.listObjects,
  ListObjectsV2: bucketOps.listObjectsV2,
  ListMultipartUploads: bucketOps.listMultipartUploads,
  DeleteObjects: bucketOps.deleteObjects,
  HeadObject: objectOps.headObject,
  GetObject: objectOps.getObject,
  PutObject: objectOps.putObject,
  CopyObject: objectOps.copyObject,
  DeleteObject: objectOps.deleteObject,
  CreateMultipartUpload: objectOps.createMultipartUpload,
  UploadPart: objectOps.uploadPart,
  CompleteMultipartUpload: objectOps.completeMultipartUpload,
  AbortMultipartUpload: objectOps.abortMultipartUpload,
  ListParts: objectOps.listParts,
};

const STREAM_BUFFER_BYTES = 1024 * 1024;

/** Operations whose request body is read (the others' bodies are discarded). */
const WITH_BODY = new Set<Operation>(['PutObject', 'UploadPart', 'DeleteObjects', 'CompleteMultipartUpload']);

export function createS3Gateway(deps: S3GatewayDeps): S3Gateway {
  const log = deps.logger.child({ component: 's3-gateway' });
  const sockets = new Set<Socket>();
  let endpoint: string | undefined;

  function sendError(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    error: unknown,
    resource: string,
  ): { status: number; code: string } {
    // A store that cannot be reached is a retryable 503 (as on the REST API), not an internal error.
    const e = isRolegateError(error)
      ? error
      : (storeUnavailable(error) ??
        new RolegateError('Internal', 'internal', 'We encountered an internal error. Please try again.', {
          cause: error,
        }));
    const { code, status } = s3ErrorOf(e);
    if (status >= 500) log.warn({ requestId, code: e.code, err: e.cause ?? error }, e.message);
    if (res.headersSent) {
      // Mid-stream failure: the only honest signal left is to cut the connection.
      res.destroy();
      return { status, code };
    }
    const body =
      req.method === 'HEAD'
        ? undefined
        : Buffer.from(
            xmlDocument(
              el('Error', [
                el('Code', code),
                el('Message', e.message),
                el('Resource', resource),
                el('RequestId', requestId),
              ]),
              false,
            ),
          );
    const headers: Record<string, string | number> = {
      'content-type': 'application/xml',
      'content-length': body?.length ?? 0,
    };
    // A body we did not read (a refused upload) would otherwise be drained before the next request.
    if (!req.complete) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
    return { status, code };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, context: RequestContext): Promise<void> {
    const started = performance.now();
    const requestId = context.requestId;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('server', 'rolegate');
    let operation: Operation | undefined;
    let target: Target | undefined;
    let username: string | undefined;
    let outcome: { status: number; code?: string };
    const disconnected = new AbortController();
    req.once('close', () => {
      if (!req.complete) {
        disconnected.abort(
          invalidInput('gateway.incomplete_body', 'The client went away during the upload; nothing was stored'),
        );
      }
    });
    try {
      const raw = { method: req.method ?? 'GET', url, rawHeaders: req.rawHeaders };
      const auth = parseAuthentication(raw, deps.clock.now());
      if (auth === undefined) {
        throw unauthenticated('gateway.anonymous', 'Anonymous requests are not accepted: sign with a gateway key');
      }
      const { principal, secret } = await deps.keys.resolve(auth.accessKeyId);
      const signing = verifySignature(raw, auth, secret, (canonical) =>
        log.debug({ requestId, canonicalRequest: canonical }, 'signature mismatch'),
      );
      username = principal.username;
      context.actor = principal.username;
      context.authMethod = 'gateway-key';
      const headers = headerMap(req.rawHeaders);
      const query = new Map(parseQuery(q < 0 ? '' : url.slice(q + 1)));
      target = targetOf(path, headers.get('host'), deps.domain);
      operation = selectOperation(raw.method, target, query, headers.has('x-amz-copy-source'));
      const exchange: Exchange = {
        req,
        res,
        requestId,
        principal,
        auth,
        signing,
        headers,
        query,
        target,
        region: deps.region,
        signal: disconnected.signal,
      };
      if (!WITH_BODY.has(operation)) req.resume();
      await (target.bucket === MOUNT_BUCKET ? mountHandler(operation) : HANDLERS[operation])(exchange, deps);
      outcome = { status: res.statusCode };
    } catch (error) {
      outcome = sendError(req, res, requestId, error, path);
      if (isRolegateError(error)) context.reasonCode = error.code;
    }
    const bytes =
      operation === undefined || outcome.status >= 300
        ? undefined
        : BYTES_IN.has(operation)
          ? Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'])
          : operation === 'GetObject'
            ? Number(res.getHeader('content-length'))
            : undefined;
    if (bytes !== undefined && Number.isFinite(bytes) && operation !== undefined) {
      deps.onBytes?.(BYTES_IN.has(operation) ? 'in' : 'out', bytes);
    }
    await deps.audit
      ?.record({
        requestId,
        actor: username,
        authMethod: context.authMethod,
        sourceIp: context.sourceIp,
        userAgent: context.userAgent,
        action: `gateway.${operation ?? 'unknown'}`,
        connection: target?.bucket,
        roleArn: context.decision?.roleArn,
        sessionName: context.decision?.sessionName,
        accessKeyId: context.decision?.accessKeyId,
        bucket: context.decision?.bucket,
        key: target?.key,
        bytes: bytes !== undefined && Number.isFinite(bytes) ? bytes : undefined,
        outcome: outcomeOfStatus(outcome.status),
        reasonCode: outcome.status >= 400 ? (context.reasonCode ?? outcome.code) : undefined,
        durationMs: Math.round(performance.now() - started),
        details: { status: outcome.status },
      })
      .catch((err: unknown) => log.error({ err, requestId }, 'could not record the audit event of a gateway request'));
    // No URL in the log: a presigned URL's query is a credential.
    log.info(
      {
        requestId,
        operation,
        method: req.method,
        user: username,
        status: outcome.status,
        code: outcome.code,
        ms: Math.round(performance.now() - started),
      },
      'gateway request',
    );
  }

  // Larger socket buffers move object bytes in fewer, bigger chunks (the gateway is a byte pump).
  const server: Server = createServer({ highWaterMark: STREAM_BUFFER_BYTES }, (req, res) => {
    const context: RequestContext = {
      requestId: randomBytes(8).toString('hex').toUpperCase(),
      sourceIp: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      transport: 'gateway',
    };
    runWithRequestContext(context, () => {
      handle(req, res, context).catch((err: unknown) => {
        log.error({ err }, 'gateway request failed unexpectedly');
        res.destroy();
      });
    });
  });
  // Bounded headers (Node's default 16 KiB), no request timeout for long uploads, but no idle sockets forever.
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    listen({ host, port }) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          endpoint = `http://${shownHost}:${address.port}`;
          resolve(endpoint);
        });
      });
    },
    url: () => endpoint,
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
