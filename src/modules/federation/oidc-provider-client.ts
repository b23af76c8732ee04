import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as client from 'openid-client';
import type { OidcConfig } from '../../config/federation.js';
import { invalidInput, unauthenticated, upstreamUnavailable } from '../../errors/errors.js';

/** A browser login in progress: what the callback must match. Kept server-side, never sent to the browser. */
export interface PendingLogin {
  readonly codeVerifier: string;
  readonly nonce: string;
}

/** A device sign-in the provider started (RFC 8628): what the user is shown, and the code rolegate polls with. */
export interface DeviceAuthorization {
  /** The provider's handle of the sign-in: a secret between rolegate and the provider, never shown. */
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete?: string | undefined;
  readonly expiresInSeconds: number;
  readonly intervalSeconds: number;
}

/** One poll of a device sign-in: the ID token once the user approved, or why to wait. */
export type DevicePoll = { readonly idToken: string } | { readonly wait: 'authorization_pending' | 'slow_down' };

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: without an `interval` from the provider, clients wait 5 s between polls. */
const DEFAULT_DEVICE_INTERVAL_S = 5;

/** The identity provider as rolegate's relying party sees it (openid-client for the flow, jose for ID tokens). */
export interface OidcProviderClient {
  /** Where to send the browser, and the state that comes back with it. */
  startLogin(): Promise<{ url: string; state: string; pending: PendingLogin }>;
  /** Redeems the code of a callback (PKCE, state and nonce checked); returns the ID token. */
  finishLogin(callbackUrl: URL, state: string, pending: PendingLogin): Promise<string>;
  /** Verifies an ID token's signature (provider's JWKS), issuer, audience and expiry; returns its claims. */
  verifyIdToken(idToken: string): Promise<JWTPayload>;
  /** Starts a device sign-in at the provider's device authorization endpoint (RFC 8628 §3.1). */
  startDeviceLogin(): Promise<DeviceAuthorization>;
  /** Asks the token endpoint once whether the user has approved a device sign-in (RFC 8628 §3.4). */
  pollDeviceLogin(deviceCode: string): Promise<DevicePoll>;
}

export function createOidcProviderClient(config: OidcConfig, clientSecret: string | undefined): OidcProviderClient {
  const issuer = new URL(config.issuer);
  const insecure = issuer.protocol === 'http:'; // only loopback: the config refuses other http issuers
  let discovered: Promise<{ config: client.Configuration; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  /** Discovery once; a failure is not remembered, so the next login tries again. */
  function provider() {
    discovered ??= client
      .discovery(
        issuer,
        config.clientId,
        undefined,
        clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .then((c) => {
        const jwksUri = c.serverMetadata().jwks_uri;
        if (jwksUri === undefined) throw new Error('the provider publishes no jwks_uri');
        return { config: c, jwks: createRemoteJWKSet(new URL(jwksUri)) };
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw upstreamUnavailable('auth.oidc_unavailable', 'the identity provider could not be reached', {
          cause: error,
        });
      });
    return discovered;
  }

  return {
    async startLogin() {
      const { config: c } = await provider();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(c, {
        redirect_uri: config.redirectUri,
        scope: config.scopes.join(' '),
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      return { url: url.href, state, pending: { codeVerifier, nonce } };
    },

    async finishLogin(callbackUrl, state, pending) {
      const { config: c } = await provider();
      try {
        const tokens = await client.authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        if (tokens.id_token === undefined) throw new Error('no ID token');
        return tokens.id_token;
      } catch (error) {
        // The cause may quote the provider's answer, never our secrets; the message says nothing specific.
        throw unauthenticated('auth.oidc_callback_failed', 'the identity provider did not complete the login', {
          cause: error,
        });
      }
    },

    async startDeviceLogin() {
      const { config: c } = await provider();
      if (c.serverMetadata().device_authorization_endpoint === undefined) {
        throw invalidInput(
          'auth.oidc_device_unsupported',
          'the identity provider offers no device sign-in: use rolegate login --oidc without --device',
        );
      }
      let started: Awaited<ReturnType<typeof client.initiateDeviceAuthorization>>;
      try {
        started = await client.initiateDeviceAuthorization(c, { scope: config.scopes.join(' ') });
      } catch (error) {
        throw upstreamUnavailable('auth.oidc_unavailable', 'the identity provider did not start the device sign-in', {
          cause: error,
        });
      }
      return {
        deviceCode: started.device_code,
        userCode: started.user_code,
        verificationUri: started.verification_uri,
        verificationUriComplete: started.verification_uri_complete,
        expiresInSeconds: started.expires_in,
        intervalSeconds: started.interval ?? DEFAULT_DEVICE_INTERVAL_S,
      };
    },

    async pollDeviceLogin(deviceCode) {
      const { config: c } = await provider();
      try {
        const tokens = await client.genericGrantRequest(c, DEVICE_CODE_GRANT, { device_code: deviceCode });
        if (tokens.id_token === undefined) throw new Error('no ID token');
        return { idToken: tokens.id_token };
      } catch (error) {
        const code = error instanceof client.ResponseBodyError ? error.error : undefined;
        if (code === 'authorization_pending' || code === 'slow_down') return { wait: code };
        if (code === 'access_denied') {
          throw unauthenticated('auth.oidc_device_denied', 'the sign-in was refused at the identity provider');
        }
        if (code === 'expired_token') {
          throw unauthenticated(
            'auth.oidc_device_expired',
            'the sign-in code expired before it was approved: run rolegate login --oidc --device again',
          );
        }
        if (code !== undefined) {
          throw unauthenticated('auth.oidc_callback_failed', 'the identity provider did not complete the login', {
            cause: error,
          });
        }
        throw upstreamUnavailable('auth.oidc_unavailable', 'the identity provider could not be reached', {
          cause: error,
        });
      }
    },

    async verifyIdToken(idToken) {
      const { jwks } = await provider();
      try {
        const { payload } = await jwtVerify(idToken, jwks, {
          issuer: config.issuer,
          audience: [config.clientId, ...config.extraAudiences],
          requiredClaims: ['sub', 'exp', 'iat'],
          clockTolerance: 30,
        });
        return payload;
      } catch {
        // No cause: jose errors may carry the token's claims.
        throw unauthenticated('auth.oidc_invalid_token', 'the ID token is invalid, expired or not for rolegate');
      }
    },
  };
}
