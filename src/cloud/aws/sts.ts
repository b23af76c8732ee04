import {
  AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  AssumeRoleWithSAMLCommand,
  type AssumeRoleWithSAMLCommandOutput,
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import type { AwsCredentials } from '../../domain/model.js';
import { invalidInput, notFound, permissionDenied, RolegateError, upstreamUnavailable } from '../../errors/errors.js';
import { awsErrorFacts, isRetryableAwsError } from './aws-error.js';
import { withRetry } from './retry.js';

export interface AssumeRoleRequest {
  readonly masterCredentials: AwsCredentials;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly durationSeconds: number;
  readonly externalId?: string | undefined;
  readonly policy: string;
  /** For error messages only. */
  readonly connectionName: string;
}

export interface AssumedRole {
  readonly credentials: AwsCredentials & { expiration: Date };
  readonly assumedRoleArn: string | undefined;
}

/** The one way rolegate talks to STS. */
export interface StsGateway {
  assumeRole(request: AssumeRoleRequest): Promise<AssumedRole>;
}

/** AssumeRoleWithWebIdentity: the user's ID token instead of master credentials (the request is unsigned). */
export interface WebIdentityRequest extends Omit<AssumeRoleRequest, 'masterCredentials' | 'externalId'> {
  /** A bearer secret: never logged, never in an error. */
  readonly webIdentityToken: string;
}

/** STS for direct federation: no master credentials involved. */
export interface WebIdentityStsGateway {
  assumeRoleWithWebIdentity(request: WebIdentityRequest): Promise<AssumedRole>;
}

/** AssumeRoleWithSAML: the user's SAML response instead of master credentials (the request is unsigned). */
export interface SamlAssumeRequest extends Omit<AssumeRoleRequest, 'masterCredentials' | 'externalId' | 'sessionName'> {
  /** The ARN of the IAM SAML provider the IdP paired with this role. */
  readonly principalArn: string;
  /** The IdP's base64 SAML response. A bearer secret: never logged, never in an error. */
  readonly samlAssertion: string;
}

/** STS for direct SAML federation: no master credentials involved. */
export interface SamlStsGateway {
  assumeRoleWithSAML(request: SamlAssumeRequest): Promise<AssumedRole>;
}

export interface StsGatewayOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly baseDelayMs?: number;
}

export function createStsGateway(options: StsGatewayOptions): StsGateway & WebIdentityStsGateway & SamlStsGateway {
  /**
   * One STS call: a client for the request's endpoint, our retry policy, typed errors. Without credentials the
   * SDK sends the call unsigned (AssumeRoleWithWebIdentity/WithSAML: the token or assertion is the credential).
   */
  async function call(
    request: { region: string; endpoint?: string | undefined; roleArn: string; connectionName: string },
    credentials: AwsCredentials | undefined,
    send: (
      client: STSClient,
    ) => Promise<AssumeRoleCommandOutput | AssumeRoleWithWebIdentityCommandOutput | AssumeRoleWithSAMLCommandOutput>,
  ): Promise<AssumedRole> {
    const client = new STSClient({
      region: request.region,
      endpoint: request.endpoint,
      ...(credentials === undefined
        ? {}
        : {
            credentials: {
              accessKeyId: credentials.accessKeyId,
              secretAccessKey: credentials.secretAccessKey,
              sessionToken: credentials.sessionToken,
            },
          }),
      // Retries are ours (below), so that their policy is explicit and testable.
      maxAttempts: 1,
      // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes and keeps waiting.
      requestHandler: {
        requestTimeout: options.timeoutMs,
        connectionTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    try {
      const out = await withRetry(() => send(client), {
        maxAttempts: options.maxAttempts,
        baseDelayMs: options.baseDelayMs ?? 100,
        maxDelayMs: 2_000,
        isRetryable: isRetryableAwsError,
      });
      return assumedFrom(out);
    } catch (error) {
      throw mapStsError(error, request);
    } finally {
      client.destroy();
    }
  }

  return {
    assumeRoleWithSAML: (request) =>
      call(request, undefined, (client) =>
        client.send(
          new AssumeRoleWithSAMLCommand({
            RoleArn: request.roleArn,
            PrincipalArn: request.principalArn,
            SAMLAssertion: request.samlAssertion,
            DurationSeconds: request.durationSeconds,
            Policy: request.policy,
          }),
        ),
      ),
    assumeRoleWithWebIdentity: (request) =>
      call(request, undefined, (client) =>
        client.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.sessionName,
            DurationSeconds: request.durationSeconds,
            WebIdentityToken: request.webIdentityToken,
            Policy: request.policy,
          }),
        ),
      ),
    assumeRole: (request) =>
      call(request, request.masterCredentials, (client) =>
        client.send(
          new AssumeRoleCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.sessionName,
            DurationSeconds: request.durationSeconds,
            ExternalId: request.externalId,
            Policy: request.policy,
          }),
        ),
      ),
  };
}

/** The credentials of an AssumeRole* answer; a missing field is an upstream failure. */
function assumedFrom(
  out: AssumeRoleCommandOutput | AssumeRoleWithWebIdentityCommandOutput | AssumeRoleWithSAMLCommandOutput,
): AssumedRole {
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw upstreamUnavailable('sts.malformed_response', 'STS returned no credentials');
  }
  return {
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    },
    assumedRoleArn: out.AssumedRoleUser?.Arn,
  };
}

/** STS failures as typed errors. By HTTP status, because RGW's STS error bodies do not parse in the SDK. */
export function mapStsError(
  error: unknown,
  request: Pick<AssumeRoleRequest, 'roleArn' | 'connectionName'>,
): RolegateError {
  if (error instanceof RolegateError) return error;
  const { status, name, network } = awsErrorFacts(error);
  const role = request.roleArn;
  const conn = request.connectionName;
  if (status === 403) {
    return permissionDenied(
      'sts.access_denied',
      `STS denied assuming role ${role} for connection "${conn}" (check the role's trust policy)`,
      { cause: error, details: { roleArn: role, connection: conn } },
    );
  }
  if (status === 404) {
    return notFound('sts.role_not_found', `role ${role} used by connection "${conn}" does not exist`, {
      cause: error,
      details: { roleArn: role, connection: conn },
    });
  }
  if (status === 400) {
    return invalidInput(
      'sts.invalid_request',
      `STS refused the AssumeRole request for connection "${conn}" as invalid`,
      {
        cause: error,
        details: { roleArn: role, connection: conn },
      },
    );
  }
  const what = network ? 'could not be reached' : `failed (${status ?? name})`;
  return upstreamUnavailable('sts.unavailable', `STS ${what} while assuming role ${role} for connection "${conn}"`, {
    cause: error,
  });
}
