import type { HttpApp } from '../../http/server.js';
import { landingPage } from './oidc.routes.js';
import type { SamlLoginService } from './saml-login.service.js';

const tags = { tags: ['auth'] };

/** SAML 2.0 single sign-on: the SP-initiated redirect to the IdP and the assertion consumer service. */
export function samlRoutes(logins: SamlLoginService) {
  return async (app: HttpApp) => {
    // The IdP posts its response as an HTML form (HTTP-POST binding).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    app.get('/auth/saml/login', { schema: { ...tags, hide: true } }, async (_req, reply) => {
      const url = await logins.startLogin();
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    });

    app.post('/auth/saml/acs', { schema: { ...tags, hide: true }, bodyLimit: 256 * 1024 }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const response = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : undefined;
      const login = await logins.consume(response);
      void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      if ((req.headers.accept ?? '').includes('application/json')) return reply.send(login);
      const page = landingPage(login);
      return reply.header('content-security-policy', page.csp).type('text/html; charset=utf-8').send(page.html);
    });
  };
}
