import { createContext, useContext } from 'react';
import type { ApiClient } from './api';
import type { Me } from './types';

export interface Session {
  readonly me: Me;
  readonly api: ApiClient;
  signOut(): void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in user and their API client; only rendered inside a session. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside a session');
  return session;
}

const TOKEN_KEY = 'rolegate.token';

/** The API token lives in this tab's sessionStorage only: closing the tab signs out. */
export const tokenStore = {
  get: (): string | null => window.sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => window.sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => window.sessionStorage.removeItem(TOKEN_KEY),
};
