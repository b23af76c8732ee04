import { DeleteRolePolicyCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import type { AwsCredentials } from '../../domain/model.js';
import { notFound, permissionDenied, RolegateError, upstreamUnavailable } from '../../errors/errors.js';
import { awsErrorFacts, isRetryableAwsError } from './aws-error.js';
import { withRetry } from './retry.js';

export interface IamRoleRequest {
  readonly masterCredentials: AwsCredentials;
  readonly region: string;
  /** IAM endpoint; undefined = AWS's. Ceph RGW answers IAM on its S3 endpoint. */
  readonly endpoint?: string | undefined;
  readonly roleName: string;
  /** For error messages only. */
  readonly connectionName: string;
}

/** The IAM calls revocation needs, on roles the master credentials may manage. */
export interface IamGateway {
  getRoleId(request: IamRoleRequest): Promise<string>;
  putRolePolicy(request: IamRoleRequest & { policyName: string; policy: string }): Promise<void>;
  /** Deleting a policy that is not there succeeds. */
  deleteRolePolicy(request: IamRoleRequest & { policyName: string }): Promise<void>;
}

export interface IamGatewayOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
}

export function createIamGateway(options: IamGatewayOptions): IamGateway {
  async function call<T>(request: IamRoleRequest, fn: (client: IAMClient) => Promise<T>): Promise<T> {
    const client = new IAMClient({
      region: request.region,
      endpoint: request.endpoint,
      credentials: {
        accessKeyId: request.masterCredentials.accessKeyId,
        secretAccessKey: request.masterCredentials.secretAccessKey,
        sessionToken: request.masterCredentials.sessionToken,
      },
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: options.timeoutMs,
        connectionTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    try {
      return await withRetry(() => fn(client), {
        maxAttempts: options.maxAttempts,
        baseDelayMs: 100,
        maxDelayMs: 2_000,
        isRetryable: isRetryableAwsError,
      });
    } finally {
      client.destroy();
    }
  }

  return {
    async getRoleId(request) {
      try {
        const out = await call(request, (c) => c.send(new GetRoleCommand({ RoleName: request.roleName })));
        const id = out.Role?.RoleId;
        if (id === undefined || id === '')
          throw upstreamUnavailable('iam.malformed_response', 'IAM returned no RoleId');
        return id;
      } catch (error) {
        throw mapIamError(error, request);
      }
    },
    async putRolePolicy(request) {
      try {
        await call(request, (c) =>
          c.send(
            new PutRolePolicyCommand({
              RoleName: request.roleName,
              PolicyName: request.policyName,
              PolicyDocument: request.policy,
            }),
          ),
        );
      } catch (error) {
        throw mapIamError(error, request);
      }
    },
    async deleteRolePolicy(request) {
      try {
        await call(request, (c) =>
          c.send(new DeleteRolePolicyCommand({ RoleName: request.roleName, PolicyName: request.policyName })),
        );
      } catch (error) {
        if (awsErrorFacts(error).status === 404) return;
        throw mapIamError(error, request);
      }
    },
  };
}

/** IAM failures as typed errors, by HTTP status (RGW's IAM error bodies do not parse in the SDK either). */
export function mapIamError(error: unknown, request: Pick<IamRoleRequest, 'roleName' | 'connectionName'>) {
  if (error instanceof RolegateError) return error;
  const { status, name, network } = awsErrorFacts(error);
  const conn = request.connectionName;
  const details = { connection: conn, roleName: request.roleName };
  if (status === 403) {
    return permissionDenied(
      'iam.access_denied',
      `the master credentials of connection "${conn}" may not manage role ${request.roleName} ` +
        '(revocation needs iam:GetRole, iam:PutRolePolicy and iam:DeleteRolePolicy on it)',
      { cause: error, details },
    );
  }
  if (status === 404) {
    return notFound('iam.role_not_found', `role ${request.roleName} of connection "${conn}" does not exist`, {
      cause: error,
      details,
    });
  }
  const what = network ? 'could not be reached' : `failed (${status ?? name})`;
  return upstreamUnavailable('iam.unavailable', `IAM ${what} for role ${request.roleName} of connection "${conn}"`, {
    cause: error,
  });
}
