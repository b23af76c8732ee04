import { randomBytes } from 'node:crypto';
import { SAML, SamlStatusError, ValidateInResponseTo } from '@node-saml/node-saml';
import type { SamlConfig } from '../../config/federation.js';
import { federatedIdentityOfAssertion, roleArnOfAwsRoleValue } from '../../domain/saml-attributes.js';
import { permissionDenied, unauthenticated } from '../../errors/errors.js';
import type { Clock } from '../../lib/clock.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { outcomeOf, withRequestFacts } from '../audit/audited-credentials.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { FederationStore } from './federation.store.js';
import type { LoginStateStore } from './login-state.store.js';
import type { OidcStore } from './oidc.store.js';
import type { OidcLogin } from './oidc-login.service.js';
import type { SessionsService } from './sessions.service.js';

export interface SamlLoginServiceDeps {
  readonly config: SamlConfig;
  /** The IdP's signing certificate, PEM. */
  readonly idpCert: string;
  readonly identity: Pick<IdentityService, 'syncFederatedUser'>;
  readonly links: Pick<OidcStore, 'userOfSubject' | 'linkSubject' | 'putSessionSamlAssertion'>;
  readonly roles: Pick<FederationStore, 'replaceIdpRoles'>;
  readonly sessions: Pick<SessionsService, 'create'>;
  readonly trail: Pick<AuditTrail, 'record'>;
  /** Pending AuthnRequest ids and the ids of assertions used, shared by every instance on the store. */
  readonly states: LoginStateStore;
  readonly clock: Clock;
}

export type SamlLoginService = ReturnType<typeof createSamlLoginService>;

/** A browser has this long to come back from the IdP with a response to our AuthnRequest. */
const PENDING_TTL_MS = 10 * 60_000;
/** Assertion ids are remembered until the assertion expires (plus the skew), at most this long. */
const REPLAY_TTL_MS = 24 * 60 * 60_000;

const newRequestId = () => `_${randomBytes(20).toString('hex')}`;

type Node = { $?: Record<string, string | undefined>; [child: string]: unknown };

const first = (value: unknown): Node | undefined =>
  Array.isArray(value) && typeof value[0] === 'object' && value[0] !== null ? (value[0] as Node) : undefined;
const all = (value: unknown): Node[] =>
  Array.isArray(value) ? value.filter((v): v is Node => typeof v === 'object' && v !== null) : [];

/** Subject links live beside OIDC ones, under a key no OIDC issuer (a URL) can take. */
const linkKey = (issuer: string) => `saml:${issuer}`;

/** Direct mode: each asserted role's provider ARN, from its "role-arn,provider-arn" pair (either order). */
function providerArnsOf(value: unknown): Record<string, string> {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const pairs: Record<string, string> = {};
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const roleArn = roleArnOfAwsRoleValue(v);
    const provider = v
      .split(',')
      .map((p) => p.trim())
      .find((p) => p !== roleArn);
    if (roleArn !== undefined && provider !== undefined && pairs[roleArn] === undefined) pairs[roleArn] = provider;
  }
  return pairs;
}

const refused = (code: string, message: string) => unauthenticated(`auth.saml_${code}`, message);

/**
 * Why node-saml refused a response, as a reason code. The raw document is only looked at to tell an unsigned
 * assertion from one signed by another key (both are "Invalid signature" to node-saml); it is never kept.
 */
function classify(error: unknown, xml: string) {
  const message = error instanceof Error ? error.message : '';
  if (error instanceof SamlStatusError) return refused('idp_error', 'the identity provider did not sign you in');
  if (/signature/i.test(message)) {
    const assertion = /<(?:[\w-]+:)?Assertion[\s>][\s\S]*$/.exec(xml)?.[0] ?? '';
    return /<(?:[\w-]+:)?Signature[\s>]/.test(assertion)
      ? refused('bad_signature', "the assertion's signature is not the identity provider's")
      : refused('unsigned', 'the assertion is not signed');
  }
  if (/expired|not yet valid/i.test(message)) {
    return refused('expired', 'the assertion is outside its validity period: try again');
  }
  if (/audience/i.test(message)) return refused('audience', 'the assertion is meant for another service provider');
  return refused('invalid_response', 'the SAML response is invalid');
}

/**
 * SAML 2.0 single sign-on, SP-initiated: brokered, or direct (the response is kept sealed with the session for
 * AssumeRoleWithSAML; RGW has none). A response is accepted only
 * with an assertion signed by the configured IdP certificate, for this SP's audience, within its validity period
 * (± `clockSkewSeconds`), answering an AuthnRequest rolegate issued (InResponseTo, consumed once), and
 * with an assertion id not seen before. Pending requests and used assertion ids are kept in the store, each until
 * it expires, so any instance accepts the response to a request another issued, and none accepts one twice.
 * Every login is audited (`auth.login`, method saml), allowed or denied; no assertion ever reaches the trail.
 */
export function createSamlLoginService(deps: SamlLoginServiceDeps) {
  const { config, clock } = deps;
  const skewMs = config.clockSkewSeconds * 1000;
  /** AuthnRequest ids recorded in the store, each handed to node-saml as it builds the next request. */
  const recordedIds: string[] = [];
  const saml = new SAML({
    entryPoint: config.entryPoint,
    issuer: config.spEntityId,
    callbackUrl: config.acsUrl,
    idpCert: deps.idpCert,
    audience: config.spEntityId,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: skewMs,
    // InResponseTo is checked below, against the signed assertion's subject confirmation.
    validateInResponseTo: ValidateInResponseTo.never,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    // Never empty when node-saml asks (startLogin records one id per request); were it so, the id would be one
    // no instance issued, and its response refused.
    generateUniqueId: () => recordedIds.shift() ?? newRequestId(),
  });

  /** The checks node-saml leaves to us, on the signed assertion: issuer, replay, InResponseTo, recipient. */
  async function checkAssertion(assertion: Node, responseInResponseTo: string | undefined): Promise<void> {
    const id = assertion.$?.ID;
    if (id === undefined || id === '') throw refused('invalid_response', 'the assertion has no id');
    if (config.idpIssuer !== undefined && first(assertion.Issuer)?._ !== config.idpIssuer) {
      throw refused('issuer', 'the assertion comes from another identity provider');
    }
    const now = clock.now();
    const bearer = all(first(assertion.Subject)?.SubjectConfirmation)
      .filter((c) => c.$?.Method === 'urn:oasis:names:tc:SAML:2.0:cm:bearer')
      .map((c) => first(c.SubjectConfirmationData)?.$ ?? {});
    // Remembered until the assertion could no longer be accepted anyway; recording it is the replay check, once
    // for all instances. An assertion refused below stays spent: its IdP is asked for a fresh one.
    const ends = [...bearer.map((d) => d.NotOnOrAfter), first(assertion.Conditions)?.$?.NotOnOrAfter]
      .map((t) => Date.parse(t ?? ''))
      .filter((t) => !Number.isNaN(t));
    const rememberUntil = Math.min(Math.max(now, ...ends) + skewMs, now + REPLAY_TTL_MS);
    if (!(await deps.states.put('saml-assertion', id, '', rememberUntil, now))) {
      throw refused('replayed', 'this assertion was already used: sign in again');
    }
    // The AuthnRequest it answers, issued by any instance, is taken once.
    let confirmation: Record<string, string | undefined> | undefined;
    for (const d of bearer) {
      const answers = d.InResponseTo;
      if (answers === undefined || (responseInResponseTo ?? answers) !== answers) continue;
      if ((await deps.states.take('saml-request', answers, now)) !== undefined) {
        confirmation = d;
        break;
      }
    }
    if (confirmation === undefined) {
      throw refused('in_response_to', 'the response does not answer a sign-in started here: try again');
    }
    const notOnOrAfter = Date.parse(confirmation.NotOnOrAfter ?? '');
    if (Number.isNaN(notOnOrAfter) || notOnOrAfter + skewMs <= now) {
      throw refused('expired', 'the assertion is outside its validity period: try again');
    }
    if (confirmation.Recipient !== undefined && confirmation.Recipient !== config.acsUrl) {
      throw refused('invalid_response', 'the assertion is meant for another address');
    }
  }

  async function signIn(samlResponse: string): Promise<OidcLogin> {
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    let profile: Awaited<ReturnType<SAML['validatePostResponseAsync']>>['profile'];
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      throw classify(error, xml);
    }
    const assertion = profile?.getAssertion?.().Assertion as Node | undefined;
    if (profile === null || typeof assertion !== 'object' || assertion === null) {
      throw refused('invalid_response', 'the SAML response holds no assertion');
    }
    const responseInResponseTo = /^<(?:[\w-]+:)?Response\b[^>]*\sInResponseTo="([^"]*)"/.exec(
      xml.replace(/^<\?xml[^>]*\?>\s*/, ''),
    )?.[1];
    await checkAssertion(assertion, responseInResponseTo);

    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const mapped = federatedIdentityOfAssertion({ nameID: profile.nameID, attributes }, config.attributes);
    if (!mapped.ok) {
      throw permissionDenied(
        `auth.saml_${mapped.problem}`,
        mapped.problem === 'no_subject'
          ? 'the assertion has no NameID'
          : `the assertion's "${config.attributes.username}" is missing or not a valid rolegate username`,
      );
    }
    const { identity } = mapped;
    const issuer = linkKey(profile.issuer ?? config.entryPoint);
    const now = new Date(clock.now()).toISOString();
    const linked = await deps.links.userOfSubject(issuer, identity.subject);
    const principal = await deps.identity.syncFederatedUser({
      userId: linked,
      username: identity.username,
      groups: identity.groups,
    });
    if (linked === undefined) await deps.links.linkSubject(issuer, identity.subject, principal.userId, now);
    await deps.roles.replaceIdpRoles(principal.userId, config.providerName, identity.roleArns, now);
    const session = await deps.sessions.create(principal, { name: `${config.providerName} login` });
    if (config.mode === 'direct') {
      // Sealed with the session; STS itself judges the assertion's validity at each AssumeRoleWithSAML.
      const providerArns = providerArnsOf(attributes[config.attributes.roles]);
      await deps.links.putSessionSamlAssertion(session.id, { samlResponse, providerArns }, session.expiresAt);
    }
    return {
      username: principal.username,
      token: session.token,
      sessionId: session.id,
      expiresAt: session.expiresAt,
      roleArn: session.roleArn,
    };
  }

  return {
    /** Starts an SP-initiated login: the IdP URL carrying a fresh AuthnRequest (HTTP-Redirect binding). */
    async startLogin(): Promise<string> {
      const id = newRequestId();
      const now = clock.now();
      await deps.states.put('saml-request', id, '', now + PENDING_TTL_MS, now);
      // Concurrent logins may swap their ids: each id handed out is recorded, whichever request carries it.
      recordedIds.push(id);
      return saml.getAuthorizeUrlAsync('', undefined, {});
    },

    /** Consumes the IdP's response (HTTP-POST binding): a rolegate session, or a refusal with its reason. */
    async consume(samlResponse: string | undefined): Promise<OidcLogin> {
      const started = performance.now();
      const base = withRequestFacts(undefined, {
        action: 'auth.login',
        authMethod: 'saml',
        details: { provider: config.providerName, channel: 'browser' },
      });
      let login: OidcLogin;
      try {
        if (samlResponse === undefined || samlResponse === '') {
          throw refused('invalid_response', 'the request carries no SAMLResponse');
        }
        login = await signIn(samlResponse);
      } catch (error) {
        await deps.trail.record({ ...base, ...outcomeOf(error), durationMs: performance.now() - started });
        throw error;
      }
      await deps.trail.record({
        ...base,
        actor: login.username,
        roleArn: login.roleArn ?? undefined,
        outcome: 'allowed',
        durationMs: performance.now() - started,
      });
      return login;
    },
  };
}
