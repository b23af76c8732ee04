import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as client from 'openid-client';
import type { OidcConfig } from '../../config/federation.js';
import { unauthenticated, upstreamUnavailable } from '../../errors/errors.js';

/** A browser login in progress: what the callback must match. Kept server-side, never sent to the browser. */
export interface PendingLogin {
  readonly codeVerifier: string;
  readonly nonce: string;
}

/** The identity provider as rolegate's relying party sees it (openid-client for the flow, jose for ID tokens). */
export interface OidcProviderClient {
  /** Where to send the browser, and the state that comes back with it. */
  startLogin(): Promise<{ url: string; state: string; pending: PendingLogin }>;
  /** Redeems the code of a callback (PKCE, state and nonce checked); returns the ID token. */
  finishLogin(callbackUrl: URL, state: string, pending: PendingLogin): Promise<string>;
  /** Verifies an ID token's signature (provider's JWKS), issuer, audience and expiry; returns its claims. */
  verifyIdToken(idToken: string): Promise<JWTPayload>;
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
