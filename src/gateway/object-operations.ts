/** The object-level S3 operations, each a thin call into the objects and multipart services. */
import { invalidInput } from '../errors/errors.js';
import { childText, el, optional, parseXml } from '../lib/xml.js';
import type { GatewayServices } from './bucket-operations.js';
import { OBJECT_READ_COALESCING, pumpCoalesced } from './coalesced-pump.js';
import {
  conditionsOf,
  type Exchange,
  objectBody,
  objectHeadersOf,
  objectResponseHeaders,
  sendEmpty,
  sendXml,
  smallBody,
} from './exchange.js';

/** CompleteMultipartUpload lists at most 10 000 parts of ~150 bytes each. */
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

const bucketOf = (x: Exchange): string => x.target.bucket as string;
const keyOf = (x: Exchange): string => x.target.key as string;

function uploadIdOf(x: Exchange): string {
  const id = x.query.get('uploadId');
  if (id === undefined || id === '') throw invalidInput('gateway.invalid_argument', 'uploadId must not be empty');
  return id;
}

export async function headObject(x: Exchange, s: GatewayServices): Promise<void> {
  const out = await s.objects.head(x.principal, bucketOf(x), keyOf(x), conditionsOf(x.headers));
  if (out.status === 304) return sendEmpty(x, 304);
  x.res.writeHead(200, { ...objectResponseHeaders(out.meta, x.query), 'content-length': out.meta.size });
  x.res.end();
}

export async function getObject(x: Exchange, s: GatewayServices): Promise<void> {
  const out = await s.objects.get(x.principal, bucketOf(x), keyOf(x), {
    range: x.headers.get('range'),
    conditions: conditionsOf(x.headers),
  });
  if (out.status === 304) return sendEmpty(x, 304);
  const headers: Record<string, string | number> = {
    ...objectResponseHeaders(out.meta, x.query),
    'content-length': out.meta.size,
  };
  if (out.contentRange !== undefined) headers['content-range'] = out.contentRange;
  x.res.writeHead(out.status, headers);
  // Backpressure both ways; a client that goes away destroys the S3 stream, which stops reading from S3.
  await pumpCoalesced(out.body, x.res, OBJECT_READ_COALESCING).catch(() => undefined);
}

export async function putObject(x: Exchange, s: GatewayServices): Promise<void> {
  const abort = new AbortController();
  x.signal.addEventListener('abort', () => abort.abort(x.signal.reason), { once: true });
  const body = await objectBody(x, abort);
  const out = await Promise.race([
    s.objects.put(x.principal, bucketOf(x), keyOf(x), body.body, {
      ...objectHeadersOf(x.headers),
      contentLength: body.length,
      contentMD5: x.headers.get('content-md5'),
      signal: abort.signal,
    }),
    body.failed,
  ]);
  sendEmpty(x, 200, { ...(out.etag ? { etag: out.etag } : {}), ...body.checksums() });
}

/** `x-amz-copy-source: [/]bucket/key`, URL-encoded; only within the same connection. */
function copySourceKey(x: Exchange): string {
  const raw = x.headers.get('x-amz-copy-source') ?? '';
  let source: string;
  try {
    source = decodeURIComponent(raw.replace(/^\//, ''));
  } catch {
    throw invalidInput('gateway.invalid_argument', 'x-amz-copy-source is not URL-encoded correctly');
  }
  if (/[?&]versionId=/.test(source)) {
    throw invalidInput(
      'gateway.not_implemented',
      'Copying an object version is not implemented by the rolegate S3 gateway',
    );
  }
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) {
    throw invalidInput('gateway.invalid_argument', 'x-amz-copy-source must be bucket/key');
  }
  if (source.slice(0, slash) !== bucketOf(x)) {
    throw invalidInput(
      'gateway.not_implemented',
      'CopyObject between connections is not implemented; copy within one connection',
    );
  }
  return source.slice(slash + 1);
}

export async function copyObject(x: Exchange, s: GatewayServices): Promise<void> {
  const directive = (x.headers.get('x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw invalidInput('gateway.invalid_argument', 'x-amz-metadata-directive must be COPY or REPLACE');
  }
  const out = await s.objects.copy(x.principal, bucketOf(x), copySourceKey(x), keyOf(x), {
    replace: directive === 'REPLACE' ? objectHeadersOf(x.headers) : undefined,
    conditions: conditionsOf(x.headers, 'x-amz-copy-source-'),
  });
  sendXml(
    x,
    200,
    el('CopyObjectResult', [optional('LastModified', out.lastModified?.toISOString()), optional('ETag', out.etag)]),
  );
}

export async function deleteObject(x: Exchange, s: GatewayServices): Promise<void> {
  await s.objects.delete(x.principal, bucketOf(x), keyOf(x));
  sendEmpty(x, 204);
}

export async function createMultipartUpload(x: Exchange, s: GatewayServices): Promise<void> {
  const uploadId = await s.multipart.create(x.principal, bucketOf(x), keyOf(x), objectHeadersOf(x.headers));
  sendXml(
    x,
    200,
    el('InitiateMultipartUploadResult', [el('Bucket', bucketOf(x)), el('Key', keyOf(x)), el('UploadId', uploadId)]),
  );
}

export async function uploadPart(x: Exchange, s: GatewayServices): Promise<void> {
  const partNumber = Number(x.query.get('partNumber'));
  const abort = new AbortController();
  x.signal.addEventListener('abort', () => abort.abort(x.signal.reason), { once: true });
  const body = await objectBody(x, abort);
  const out = await Promise.race([
    s.multipart.uploadPart(x.principal, bucketOf(x), keyOf(x), uploadIdOf(x), partNumber, body.body, {
      contentLength: body.length,
      contentMD5: x.headers.get('content-md5'),
      signal: abort.signal,
    }),
    body.failed,
  ]);
  sendEmpty(x, 200, { ...(out.etag ? { etag: out.etag } : {}), ...body.checksums() });
}

export async function completeMultipartUpload(x: Exchange, s: GatewayServices): Promise<void> {
  const doc = parseXml((await smallBody(x, MAX_COMPLETE_BODY)).toString('utf8'));
  if (doc.name !== 'CompleteMultipartUpload') {
    throw invalidInput('gateway.malformed_xml', 'The root element must be CompleteMultipartUpload');
  }
  const parts = doc.children
    .filter((c) => c.name === 'Part')
    .map((p) => {
      const partNumber = Number(childText(p, 'PartNumber'));
      const etag = childText(p, 'ETag');
      if (!Number.isInteger(partNumber) || etag === undefined) {
        throw invalidInput('gateway.malformed_xml', 'Every Part must have a PartNumber and an ETag');
      }
      return { partNumber, etag };
    });
  if (parts.length === 0) throw invalidInput('gateway.malformed_xml', 'CompleteMultipartUpload must list parts');
  const out = await s.multipart.complete(x.principal, bucketOf(x), keyOf(x), uploadIdOf(x), parts);
  sendXml(
    x,
    200,
    el('CompleteMultipartUploadResult', [
      el('Location', `/${bucketOf(x)}/${keyOf(x)}`),
      el('Bucket', bucketOf(x)),
      el('Key', keyOf(x)),
      optional('ETag', out.etag),
    ]),
  );
}

export async function abortMultipartUpload(x: Exchange, s: GatewayServices): Promise<void> {
  await s.multipart.abort(x.principal, bucketOf(x), keyOf(x), uploadIdOf(x));
  sendEmpty(x, 204);
}

export async function listParts(x: Exchange, s: GatewayServices): Promise<void> {
  const number = (name: string) => {
    const raw = x.query.get(name);
    if (raw === undefined) return undefined;
    if (!/^\d{1,5}$/.test(raw)) throw invalidInput('gateway.invalid_argument', `${name} must be a number`);
    return Number(raw);
  };
  const maxParts = number('max-parts') ?? 1000;
  const listing = await s.multipart.listParts(x.principal, bucketOf(x), keyOf(x), uploadIdOf(x), {
    maxParts,
    partNumberMarker: number('part-number-marker'),
  });
  const who = [el('ID', x.principal.username), el('DisplayName', x.principal.username)];
  sendXml(
    x,
    200,
    el('ListPartsResult', [
      el('Bucket', bucketOf(x)),
      el('Key', keyOf(x)),
      el('UploadId', uploadIdOf(x)),
      el('Initiator', who),
      el('Owner', who),
      el('StorageClass', 'STANDARD'),
      el('PartNumberMarker', number('part-number-marker') ?? 0),
      optional('NextPartNumberMarker', listing.nextPartNumberMarker),
      el('MaxParts', maxParts),
      el('IsTruncated', listing.isTruncated),
      ...listing.parts.map((p) =>
        el('Part', [
          el('PartNumber', p.partNumber),
          optional('LastModified', p.lastModified?.toISOString()),
          optional('ETag', p.etag),
          optional('Size', p.size),
        ]),
      ),
    ]),
  );
}
