import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { storeUnavailable } from '../db/store-errors.js';
import { RolegateError } from '../errors/errors.js';
import { httpStatusOf } from '../errors/http-status.js';
import { currentRequestContext } from '../lib/request-context.js';

/** Every error body: `{ code, message, requestId }`. */
export interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
  details?: Record<string, string | number | boolean>;
}

function body(request: FastifyRequest, code: string, message: string, details?: ErrorBody['details']): ErrorBody {
  const ctx = currentRequestContext();
  if (ctx !== undefined) ctx.reasonCode = code;
  return details && Object.keys(details).length > 0
    ? { code, message, requestId: request.id, details }
    : { code, message, requestId: request.id };
}

/** Maps any thrown error to a status and a safe body. Unknown errors are logged and hidden behind `internal`. */
export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  // A store that cannot be reached is an unavailable upstream (503, retryable), not an internal error.
  const unavailable = error instanceof RolegateError ? undefined : storeUnavailable(error);
  if (unavailable !== undefined) {
    handleError(unavailable, request, reply);
    return;
  }
  if (error instanceof RolegateError) {
    const status = httpStatusOf(error.kind);
    if (status >= 500) request.log.warn({ code: error.code, err: error.cause }, error.message);
    void reply.status(status).send(body(request, error.code, error.message, { ...error.details }));
    return;
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation
      .map((v) => `${v.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'}: ${v.message ?? 'invalid'}`)
      .join('; ');
    void reply
      .status(400)
      .send(body(request, 'request.invalid', `invalid ${error.validationContext ?? 'request'}: ${issues}`));
    return;
  }
  const fe = error as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    void reply.status(413).send(body(request, 'request.body_too_large', 'the request body is too large'));
    return;
  }
  if (
    fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
    fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'
  ) {
    void reply.status(fe.statusCode ?? 400).send(body(request, 'request.invalid', fe.message));
    return;
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (bad JSON and the like): their messages describe the input, not internals.
    void reply.status(fe.statusCode).send(body(request, 'request.invalid', fe.message));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply
    .status(500)
    .send(body(request, 'internal', 'internal error; the request id identifies it in the server log'));
}
