import { AsyncLocalStorage } from 'node:async_hooks';

/** What rolegate decided for a request, kept for the audit event of the operation that follows. */
export interface DecisionFacts {
  connection?: string | undefined;
  roleArn?: string | undefined;
  sessionName?: string | undefined;
  accessKeyId?: string | undefined;
  bucket?: string | undefined;
  key?: string | undefined;
}

/** Per-request facts that every layer may read without threading them through each call. */
export interface RequestContext {
  readonly requestId: string;
  readonly sourceIp?: string | undefined;
  readonly userAgent?: string | undefined;
  /** `api`, `gateway`, `credential-endpoint`, `cli` … */
  readonly transport: string;
  authMethod?: string | undefined;
  actor?: string | undefined;
  decision?: DecisionFacts | undefined;
  /** The stable code of the error the request ended with, if any. */
  reasonCode?: string | undefined;
  /** Bytes moved by a data operation, filled in as the stream runs. */
  bytes?: number | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Binds a context to the rest of the current asynchronous flow (used from a Fastify onRequest hook). */
export function enterRequestContext(context: RequestContext): void {
  storage.enterWith(context);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
