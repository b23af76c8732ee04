import { z } from 'zod';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https everywhere; plain http only on loopback (a local IdP in tests and demos). */
const idpUrl = z.url().refine(
  (value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  },
  { message: 'must be https (http only on 127.0.0.1, localhost or [::1])' },
);

/**
 * OpenID Connect single sign-on. The client secret is never written here: it comes from the environment
 * variable ROLEGATE_OIDC_CLIENT_SECRET or from `clientSecretFile`; with neither, rolegate is a public client
 * (PKCE only).
 */
export const oidcConfigSchema = z
  .object({
    /** Exactly the `iss` of the provider's ID tokens, e.g. `https://login.example.com/realms/main`. */
    issuer: idpUrl,
    clientId: z.string().min(1),
    clientSecretFile: z.string().min(1).optional(),
    /** Where the provider sends the browser back: `<rolegate>/auth/oidc/callback`. */
    redirectUri: idpUrl,
    scopes: z.array(z.string().min(1)).min(1).default(['openid', 'profile', 'email']),
    /** Further audiences accepted for ID tokens posted by the CLI (e.g. the CLI's own client id). */
    extraAudiences: z.array(z.string().min(1)).default([]),
    claims: z
      .object({
        /** Becomes the rolegate username (lower-cased). */
        username: z.string().min(1).default('preferred_username'),
        /** A string array: the user's rolegate groups, replaced at each login. */
        groups: z.string().min(1).default('groups'),
        /** A string array of IAM role ARNs: the user's entitled roles from this provider. */
        roles: z.string().min(1).default('roles'),
      })
      .strict()
      .default({ username: 'preferred_username', groups: 'groups', roles: 'roles' }),
    /**
     * `brokered`: rolegate assumes roles with its master credentials. `direct`: the user's ID token is also kept
     * (encrypted) with the rolegate session, so connections with `master: 'web-identity'` obtain role sessions
     * by AssumeRoleWithWebIdentity, without master credentials.
     */
    mode: z.enum(['brokered', 'direct']).default('brokered'),
    /** The name entitlements from this provider are recorded under. */
    providerName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/)
      .default('oidc'),
  })
  .strict();

export type OidcConfig = z.infer<typeof oidcConfigSchema>;

/** The AWS SAML attribute whose values are "role-arn,provider-arn" pairs (either order). */
export const AWS_SAML_ROLE_ATTRIBUTE = 'https://aws.amazon.com/SAML/Attributes/Role';

/**
 * SAML 2.0 single sign-on (SP-initiated, HTTP-Redirect AuthnRequest, HTTP-POST response). Assertions must be
 * signed by the IdP's certificate; audience, validity (with `clockSkewSeconds`), InResponseTo and replay are
 * checked. Brokered, or direct (AssumeRoleWithSAML, which RGW lacks).
 */
export const samlConfigSchema = z
  .object({
    /** The IdP's single sign-on URL (HTTP-Redirect binding). */
    entryPoint: idpUrl,
    /** The IdP's entity id; when set, assertions from another issuer are refused. */
    idpIssuer: z.string().min(1).optional(),
    /** The IdP's signing certificate, PEM. */
    idpCertFile: z.string().min(1),
    /** rolegate's SP entity id: the issuer of its AuthnRequests and the audience assertions must name. */
    spEntityId: z.string().min(1),
    /** Where the IdP posts its response: `<rolegate>/auth/saml/acs`. */
    acsUrl: idpUrl,
    attributes: z
      .object({
        /** Becomes the rolegate username (lower-cased); `nameID`: the subject's NameID. */
        username: z.string().min(1).default('nameID'),
        /** The user's rolegate groups, replaced at each login. */
        groups: z.string().min(1).default('groups'),
        /** "role-arn,provider-arn" pairs: the user's entitled roles from this IdP. */
        roles: z.string().min(1).default(AWS_SAML_ROLE_ATTRIBUTE),
      })
      .strict()
      .default({ username: 'nameID', groups: 'groups', roles: AWS_SAML_ROLE_ATTRIBUTE }),
    clockSkewSeconds: z.number().int().min(0).max(600).default(60),
    /**
     * `brokered`: rolegate assumes roles with its master credentials. `direct`: the login's SAML response is also
     * kept (encrypted) with the rolegate session, so connections with `master: 'saml'` obtain role sessions by
     * AssumeRoleWithSAML (provider ARN from the role attribute pair), without master credentials. RGW has no
     * AssumeRoleWithSAML: direct mode needs an STS that has it (AWS).
     */
    mode: z.enum(['brokered', 'direct']).default('brokered'),
    /** The name entitlements from this IdP are recorded under. */
    providerName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/)
      .default('saml'),
  })
  .strict();

export type SamlConfig = z.infer<typeof samlConfigSchema>;

export const federationConfigSchema = z
  .object({ oidc: oidcConfigSchema.optional(), saml: samlConfigSchema.optional() })
  .strict();
