import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickFreePort } from '../../src/demo/local-backend.js';

/**
 * The part of samlify's API this IdP uses. samlify is loaded untyped on purpose: its type declarations pull in
 * the DOM library, which changes global types (fetch bodies) for the whole test project.
 */
interface Samlify {
  setSchemaValidator(validator: { validate: (xml: string) => Promise<string> }): void;
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdp;
  ServiceProvider(settings: Record<string, unknown>): object;
  Constants: {
    namespace: { binding: { redirect: string; post: string } };
    StatusCode: { Success: string };
  };
  SamlLib: { replaceTagsByValue(xml: string, values: Record<string, string>): string };
}
interface SamlifyIdp {
  parseLoginRequest(
    sp: object,
    binding: 'redirect',
    req: { query: Record<string, string> },
  ): Promise<{ extract: { request?: { id?: string } } }>;
  createLoginResponse(
    sp: object,
    requestInfo: object,
    binding: 'post',
    user: object,
    options: { customTagReplacement: (template: string) => { id: string; context: string } },
  ): Promise<{ context: string }>;
}

const samlify = createRequire(import.meta.url)('samlify') as Samlify;

// rolegate's AuthnRequests are well-formed; the test IdP does not need XSD validation.
samlify.setSchemaValidator({ validate: async () => 'skipped' });

/** A user of the test IdP: the NameID and multi-valued attributes for the assertion. */
export interface TestSamlUser {
  readonly nameID: string;
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

/** Ways the test IdP can misbehave for one login, each of which rolegate must refuse. */
export type SamlMisbehaviour =
  | 'unsigned-assertion'
  | 'other-key'
  | 'wrong-audience'
  | 'expired'
  | 'wrong-in-response-to';

export interface TestSamlIdp {
  readonly entityId: string;
  /** The single sign-on URL (HTTP-Redirect binding). */
  readonly ssoUrl: string;
  /** The IdP's signing certificate, PEM, in a file (for rolegate's `idpCertFile`). */
  readonly certFile: string;
  /**
   * Plays the browser at the IdP: opens the redirect URL rolegate sent (the AuthnRequest), signs `login` in,
   * and returns the auto-posting form's fields (the ACS URL and the base64 SAMLResponse).
   */
  signIn(
    redirectUrl: string,
    login: string,
    misbehave?: SamlMisbehaviour,
  ): Promise<{ acs: string; samlResponse: string }>;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function keyPair(dir: string, name: string): { key: string; cert: string; certFile: string } {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=rolegate-test-idp-${name}`].concat([
      '-keyout',
      join(dir, `${name}-key.pem`),
      '-out',
      join(dir, `${name}-cert.pem`),
    ]),
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(join(dir, `${name}-key.pem`), 'utf8'),
    cert: readFileSync(join(dir, `${name}-cert.pem`), 'utf8'),
    certFile: join(dir, `${name}-cert.pem`),
  };
}

function attributeStatement(attributes: Readonly<Record<string, readonly string[]>>): string {
  const attrs = Object.entries(attributes)
    .map(
      ([name, values]) =>
        `<saml:Attribute Name="${esc(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values
          .map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`,
    )
    .join('');
  return `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>`;
}

/**
 * A SAML 2.0 identity provider (npm `samlify` in IdP mode) on 127.0.0.1: `GET /sso` takes rolegate's
 * AuthnRequest (HTTP-Redirect) and shows a login form; `POST /sso/login` answers the auto-posting form with a
 * response whose assertion is signed (RSA-SHA256) by the IdP's key — or, on request, misbehaves.
 */
export async function startTestSamlIdp(options: {
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly users: readonly TestSamlUser[];
}): Promise<TestSamlIdp> {
  const dir = mkdtempSync(join(tmpdir(), 'rolegate-idp-'));
  const good = keyPair(dir, 'idp');
  const other = keyPair(dir, 'other');
  const port = await pickFreePort();
  const base = `http://127.0.0.1:${port}`;
  const entityId = `${base}/metadata`;
  const ssoUrl = `${base}/sso`;
  const idpOf = (keys: { key: string; cert: string }) =>
    samlify.IdentityProvider({
      entityID: entityId,
      privateKey: keys.key,
      signingCert: keys.cert,
      singleSignOnService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: ssoUrl }],
      singleLogoutService: [{ Binding: samlify.Constants.namespace.binding.redirect, Location: `${base}/slo` }],
      nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
    });
  const idp = idpOf(good);
  const otherIdp = idpOf(other);
  const spOf = (entityID: string, wantAssertionsSigned: boolean) =>
    samlify.ServiceProvider({
      entityID,
      wantAssertionsSigned,
      authnRequestsSigned: false,
      assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: options.acsUrl }],
    });
  const sp = spOf(options.spEntityId, true);
  const users = new Map(options.users.map((u) => [u.nameID, u]));

  async function respond(samlRequest: string, login: string, misbehave?: SamlMisbehaviour): Promise<string> {
    const user = users.get(login);
    if (user === undefined) throw new Error(`no such test IdP user: ${login}`);
    const parsed = await idp.parseLoginRequest(sp, 'redirect', { query: { SAMLRequest: samlRequest } });
    const requestId = parsed.extract.request?.id ?? '';
    const target =
      misbehave === 'unsigned-assertion'
        ? spOf(options.spEntityId, false) // samlify then signs only the response, not the assertion
        : misbehave === 'wrong-audience'
          ? spOf('https://another-sp.example.com/saml', true)
          : sp;
    const signer = misbehave === 'other-key' ? otherIdp : idp;
    // An IdP whose clock is two hours behind issues assertions that expired long before they arrive.
    const now = Date.now() - (misbehave === 'expired' ? 2 * 60 * 60_000 : 0);
    const id = `_${randomBytes(16).toString('hex')}`;
    const values = {
      ID: id,
      AssertionID: `_${randomBytes(16).toString('hex')}`,
      Destination: options.acsUrl,
      Audience: misbehave === 'wrong-audience' ? 'https://another-sp.example.com/saml' : options.spEntityId,
      SubjectRecipient: options.acsUrl,
      Issuer: entityId,
      IssueInstant: new Date(now).toISOString(),
      StatusCode: samlify.Constants.StatusCode.Success,
      ConditionsNotBefore: new Date(now).toISOString(),
      ConditionsNotOnOrAfter: new Date(now + 5 * 60_000).toISOString(),
      SubjectConfirmationDataNotOnOrAfter: new Date(now + 5 * 60_000).toISOString(),
      NameIDFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      NameID: user.nameID,
      InResponseTo: misbehave === 'wrong-in-response-to' ? `_${randomBytes(20).toString('hex')}` : requestId,
      AuthnStatement: '',
    };
    const response = await signer.createLoginResponse(
      target,
      parsed,
      'post',
      {},
      {
        customTagReplacement: (template: string) => ({
          id,
          context: samlify.SamlLib.replaceTagsByValue(
            template.replace('{AttributeStatement}', attributeStatement(user.attributes)),
            values,
          ),
        }),
      },
    );
    return response.context;
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/sso') {
      const request = url.searchParams.get('SAMLRequest') ?? '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<form method="post" action="/sso/login"><input name="SAMLRequest" type="hidden" value="${esc(request)}">` +
          '<input name="login"><input name="misbehave" type="hidden" value=""><button>Sign in</button></form>',
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/sso/login') {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const misbehave = (form.get('misbehave') || undefined) as SamlMisbehaviour | undefined;
        respond(form.get('SAMLRequest') ?? '', form.get('login') ?? '', misbehave).then(
          (samlResponse) => {
            // The auto-posting form a real IdP answers with (HTTP-POST binding).
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            res.end(
              `<form method="post" action="${esc(options.acsUrl)}"><input type="hidden" name="SAMLResponse" value="${esc(samlResponse)}"></form><script>document.forms[0].submit()</script>`,
            );
          },
          (error: unknown) => {
            res.writeHead(400, { 'content-type': 'text/plain' });
            res.end(String(error));
          },
        );
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    entityId,
    ssoUrl,
    certFile: good.certFile,
    async signIn(redirectUrl, login, misbehave) {
      const form = await fetch(redirectUrl);
      if (form.status !== 200) throw new Error(`IdP answered ${form.status} to the AuthnRequest`);
      const html = await form.text();
      const request = /name="SAMLRequest" type="hidden" value="([^"]*)"/.exec(html)?.[1] ?? '';
      const res = await fetch(`${base}/sso/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ SAMLRequest: request, login, misbehave: misbehave ?? '' }).toString(),
      });
      const page = await res.text();
      if (res.status !== 200) throw new Error(`IdP sign-in failed: ${page}`);
      const acs = /action="([^"]*)"/.exec(page)?.[1] ?? '';
      const samlResponse = /name="SAMLResponse" value="([^"]*)"/.exec(page)?.[1] ?? '';
      return { acs, samlResponse };
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
