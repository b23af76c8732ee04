import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import { Loading } from './components/ui';
import { ApiError, createApiClient } from './lib/api';
import { Link, matchPath, useRouter } from './lib/router';
import { type Session, SessionContext, tokenStore, useSession } from './lib/session';
import type { Me } from './lib/types';
import { AuditPage } from './pages/Audit';
import { BrowserPage } from './pages/Browser';
import { ConnectionEditPage } from './pages/ConnectionEdit';
import { ConnectionsPage } from './pages/Connections';
import { MyDataPage } from './pages/MyData';
import { NotFoundPage } from './pages/NotFound';
import { RolesPage } from './pages/Roles';
import { SignInPage } from './pages/SignIn';
import { UserPage } from './pages/User';
import { UsersPage } from './pages/Users';

/** Signs in with the stored token (if any), then renders the page for the URL. */
export function App() {
  const [token, setToken] = useState(tokenStore.get);
  const [me, setMe] = useState<Me>();
  const [signedOutBecause, setSignedOutBecause] = useState<ApiError>();

  const signOut = useCallback((because?: ApiError) => {
    tokenStore.clear();
    setToken(null);
    setMe(undefined);
    setSignedOutBecause(because);
  }, []);
  const api = useMemo(() => (token === null ? undefined : createApiClient(token, signOut)), [token, signOut]);

  useEffect(() => {
    if (api === undefined) return;
    let current = true;
    api.get<Me>('/api/me').then(
      (who) => current && setMe(who),
      (e: unknown) => current && signOut(e instanceof ApiError ? e : undefined),
    );
    return () => {
      current = false;
    };
  }, [api, signOut]);

  if (api === undefined) {
    return (
      <SignInPage
        signedOutBecause={signedOutBecause}
        onSignedIn={(newToken, who) => {
          tokenStore.set(newToken);
          setSignedOutBecause(undefined);
          setMe(who);
          setToken(newToken);
        }}
      />
    );
  }
  if (me === undefined) return <Loading what="your account" />;
  const session: Session = { me, api, signOut: () => signOut() };
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

function Shell() {
  const { path, navigate } = useRouter();
  const { me } = useSession();
  useEffect(() => {
    if (path === '/' || path === '/sign-in') navigate('/data', { replace: true });
  }, [path, navigate]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main">{pageFor(path, me.role === 'admin')}</main>
    </>
  );
}

function Header() {
  const { me, signOut } = useSession();
  const isAdmin = me.role === 'admin';
  return (
    <header className="app-header">
      <Link to="/data" className="brand">
        rolegate
      </Link>
      <nav aria-label="Main">
        <Link to="/data">My data</Link>
        <Link to="/roles">Roles &amp; sessions</Link>
        {isAdmin && <Link to="/connections">Connections</Link>}
        {isAdmin && <Link to="/users">Users &amp; groups</Link>}
        <Link to="/audit">{isAdmin ? 'Audit' : 'My activity'}</Link>
      </nav>
      <span className="whoami">
        Signed in as <strong>{me.username}</strong> ({me.role})
      </span>
      <button type="button" className="secondary" onClick={signOut}>
        Sign out
      </button>
    </header>
  );
}

type Route = [pattern: string, render: (params: Record<string, string>) => ReactNode, adminOnly?: boolean];
const ROUTES: Route[] = [
  ['/data', () => <MyDataPage />],
  ['/data/:name', (p) => <BrowserPage name={p.name ?? ''} />],
  ['/roles', () => <RolesPage />],
  ['/audit', () => <AuditPage />],
  ['/connections', () => <ConnectionsPage />, true],
  ['/connections/new', () => <ConnectionEditPage />, true],
  ['/connections/:name', (p) => <ConnectionEditPage name={p.name} />, true],
  ['/users', () => <UsersPage />, true],
  ['/users/:username', (p) => <UserPage username={p.username ?? ''} />, true],
];

function pageFor(path: string, isAdmin: boolean): ReactNode {
  if (path === '/' || path === '/sign-in') return <MyDataPage />;
  for (const [pattern, render, adminOnly] of ROUTES) {
    const params = matchPath(pattern, path);
    if (params === undefined) continue;
    return adminOnly && !isAdmin ? <NotFoundPage adminOnly /> : render(params);
  }
  return <NotFoundPage />;
}
