import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small AWS Glue Data Catalog peer for tests: JSON 1.1 over HTTP on 127.0.0.1, `X-Amz-Target: AWSGlue.<Op>`.
 * It records every request (target, parsed body, headers) and answers with the shapes of Glue's API reference
 * (GetDatabases → DatabaseList, GetTables → TableList, GetTable → Table, CreateTable/UpdateTable/DeleteTable/
 * CreatePartition → {}; errors as `{ "__type", "Message" }` with status 400 and `x-amzn-ErrorType`), keeping
 * databases and tables in memory. AWS itself is not reachable from the test machines; this is the stand-in.
 */
export interface GlueRequest {
  /** The operation, e.g. `CreateTable` (from `X-Amz-Target: AWSGlue.CreateTable`). */
  readonly operation: string;
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly headers: IncomingHttpHeaders;
}

export interface GlueEndpoint {
  readonly url: string;
  readonly requests: GlueRequest[];
  /** Tables by database, as stored from CreateTable/UpdateTable inputs. */
  readonly databases: Map<string, Map<string, Record<string, unknown>>>;
  readonly partitions: Record<string, unknown>[];
  /** Access key ids whose requests are refused with AccessDeniedException. */
  readonly deniedAccessKeys: Set<string>;
  addDatabase(name: string): void;
  /** Requests of one operation, in order. */
  calls(operation: string): GlueRequest[];
  close(): Promise<void>;
}

const EPOCH = 1_717_200_000; // 2024-06-01T00:00:00Z, in Glue's JSON timestamp form (epoch seconds).

/** The access key id of a SigV4 Authorization header (`Credential=AKID/date/region/glue/aws4_request`). */
export function credentialOf(headers: IncomingHttpHeaders): { accessKeyId: string; scope: string } | undefined {
  const m = /Credential=([^/,\s]+)\/([^,\s]+)/.exec(String(headers.authorization ?? ''));
  return m ? { accessKeyId: m[1] as string, scope: m[2] as string } : undefined;
}

export async function startGlueEndpoint(): Promise<GlueEndpoint> {
  const requests: GlueRequest[] = [];
  const databases = new Map<string, Map<string, Record<string, unknown>>>();
  const partitions: Record<string, unknown>[] = [];
  const deniedAccessKeys = new Set<string>();

  const fail = (type: string, message: string) => ({ status: 400, type, body: { __type: type, Message: message } });
  const ok = (body: unknown) => ({ status: 200, type: undefined, body });

  function answer(operation: string, body: Record<string, unknown>) {
    const dbName = String(body.DatabaseName ?? '');
    const db = databases.get(dbName);
    const input = (body.TableInput ?? {}) as Record<string, unknown>;
    switch (operation) {
      case 'GetDatabases':
        return ok({
          DatabaseList: [...databases.keys()].map((Name) => ({ Name, CreateTime: EPOCH, CatalogId: '123456789012' })),
        });
      case 'GetTables':
        if (db === undefined) return fail('EntityNotFoundException', `Database ${dbName} not found.`);
        return ok({ TableList: [...db.values()] });
      case 'GetTable': {
        const table = db?.get(String(body.Name));
        if (table === undefined) return fail('EntityNotFoundException', `Table ${String(body.Name)} not found.`);
        return ok({ Table: table });
      }
      case 'CreateTable': {
        if (db === undefined) return fail('EntityNotFoundException', `Database ${dbName} not found.`);
        const name = String(input.Name);
        if (db.has(name)) return fail('AlreadyExistsException', 'Table already exists.');
        db.set(name, {
          ...input,
          DatabaseName: dbName,
          CreateTime: EPOCH,
          UpdateTime: EPOCH,
          CatalogId: '123456789012',
        });
        return ok({});
      }
      case 'UpdateTable': {
        const name = String(input.Name);
        const before = db?.get(name);
        if (db === undefined || before === undefined)
          return fail('EntityNotFoundException', `Table ${name} not found.`);
        db.set(name, { ...input, DatabaseName: dbName, CreateTime: before.CreateTime, UpdateTime: EPOCH + 60 });
        return ok({});
      }
      case 'DeleteTable': {
        if (db === undefined || !db.delete(String(body.Name))) {
          return fail('EntityNotFoundException', `Table ${String(body.Name)} not found.`);
        }
        return ok({});
      }
      case 'CreatePartition':
        if (db?.get(String(body.TableName)) === undefined) return fail('EntityNotFoundException', 'Table not found.');
        partitions.push(body);
        return ok({});
      default:
        return fail('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('AWSGlue.') ? target.slice('AWSGlue.'.length) : '';
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        body = {};
      }
      requests.push({ operation, target, body, headers: req.headers });
      const key = credentialOf(req.headers)?.accessKeyId;
      const out =
        key !== undefined && deniedAccessKeys.has(key)
          ? fail('AccessDeniedException', 'User is not authorized to perform this operation')
          : answer(operation, body);
      const headers: Record<string, string> = {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `req-${requests.length}`,
      };
      if (out.type !== undefined)
        headers['x-amzn-errortype'] = `${out.type}:http://internal.amazon.com/coral/com.amazonaws.glue/`;
      res.writeHead(out.status, headers);
      res.end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    databases,
    partitions,
    deniedAccessKeys,
    addDatabase: (name) => void databases.set(name, new Map()),
    calls: (operation) => requests.filter((r) => r.operation === operation),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
