import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentials } from '../../domain/model.js';
import { upstreamUnavailable } from '../../errors/errors.js';

/** A source of credentials, in the style of the AWS SDK's providers. */
export type CredentialSource = () => Promise<AwsCredentials>;

/**
 * The AWS default chain of the rolegate process (environment, shared config, SSO, web identity, ECS, IMDS).
 * The SDK memoizes and refreshes what it finds.
 */
export function fromEnvironmentChain(): CredentialSource {
  const chain = fromNodeProviderChain();
  return async () => {
    try {
      const c = await chain();
      return {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration,
      };
    } catch (cause) {
      throw upstreamUnavailable(
        'credentials.environment_unavailable',
        'no AWS credentials found in the environment of the rolegate process (AWS default chain)',
        { cause, retryable: false },
      );
    }
  };
}
