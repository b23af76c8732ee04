import { type FormEvent, useState } from 'react';
import { ErrorNotice, Field, PageTitle } from '../components/ui';
import { ApiError, createApiClient } from '../lib/api';
import type { Me } from '../lib/types';

/**
 * Single sign-on providers shown above the token form. None exist yet: when the API offers federation,
 * it lists them here and each becomes a button that starts its login flow.
 */
const SSO_PROVIDERS: ReadonlyArray<{ readonly id: string; readonly label: string; readonly href: string }> = [];

export function SignInPage({
  onSignedIn,
  signedOutBecause,
}: {
  onSignedIn: (token: string, me: Me) => void;
  signedOutBecause: ApiError | undefined;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const candidate = token.trim();
    if (candidate === '') {
      setError(new ApiError(0, { code: 'token.required', message: 'paste an API token (rg_…)' }));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const me = await createApiClient(candidate, () => {}).get<Me>('/api/me');
      onSignedIn(candidate, me);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <PageTitle title="Sign in">Sign in to rolegate</PageTitle>
      {signedOutBecause && <ErrorNotice error={signedOutBecause} title="You were signed out:" />}
      {SSO_PROVIDERS.length > 0 && (
        <section aria-label="Single sign-on" className="sso">
          {SSO_PROVIDERS.map((p) => (
            <a key={p.id} className="button" href={p.href}>
              Sign in with {p.label}
            </a>
          ))}
          <p className="divider">or</p>
        </section>
      )}
      <form onSubmit={submit} noValidate>
        <Field
          label="API token"
          hint="An administrator creates your token (rg_…). It is kept in this browser tab only, until you sign out or close it."
          error={error instanceof ApiError && error.code === 'token.required' ? error.message : undefined}
        >
          {(props) => (
            <input
              {...props}
              name="token"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              onChange={(e) => setToken(e.target.value)}
            />
          )}
        </Field>
        {!(error instanceof ApiError && error.code === 'token.required') && <ErrorNotice error={error} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
