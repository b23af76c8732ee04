import { useState } from 'react';
import { ErrorNotice } from '../components/ui';
import { seg } from '../lib/api';
import { formatBytes } from '../lib/format';
import { useSession } from '../lib/session';
import type { ConnectionView, Listing } from '../lib/types';

/**
 * Tests a saved connection for real: a role session and a listing of its root. The API cannot act as
 * another user yet, so the test runs as the signed-in administrator, with their own properties and groups.
 */
export function ConnectionTest({ connection }: { connection: ConnectionView }) {
  const { api, me } = useSession();
  const [state, setState] = useState<{ busy: boolean; listing?: Listing; error?: unknown; at?: string }>({
    busy: false,
  });

  async function run() {
    setState({ busy: true });
    try {
      const listing = await api.get<Listing>(`/api/connections/${seg(connection.name)}/objects?limit=20`);
      setState({ busy: false, listing, at: new Date().toLocaleTimeString() });
    } catch (error) {
      setState({ busy: false, error, at: new Date().toLocaleTimeString() });
    }
  }

  return (
    <section className="panel" aria-labelledby="test-title">
      <h2 id="test-title">Test</h2>
      <p className="muted">
        Assumes the role and lists the root of{' '}
        <code>
          s3://{connection.bucket}/{connection.path}
        </code>{' '}
        as you ({me.username}), with your own admin properties and groups.
      </p>
      <button type="button" onClick={() => void run()} disabled={state.busy}>
        {state.busy ? 'Testing…' : 'Test connection'}
      </button>
      <div aria-live="polite" className="test-result">
        {state.error !== undefined && <ErrorNotice error={state.error} title={`Denied (${state.at}):`} />}
        {state.listing && (
          <div className="notice notice-ok">
            <p>
              <strong>Works ({state.at}).</strong> {state.listing.folders.length} folder(s),{' '}
              {state.listing.objects.length} object(s){state.listing.nextCursor ? ' and more' : ''} at the root.
            </p>
            <ul className="test-listing">
              {state.listing.folders.map((f) => (
                <li key={f}>{f}</li>
              ))}
              {state.listing.objects.map((o) => (
                <li key={o.key}>
                  {o.key} <span className="muted">({formatBytes(o.size)})</span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </section>
  );
}
