import { useState } from 'react';
import { Empty, ErrorNotice, Field, Loading, PageTitle } from '../components/ui';
import { Link } from '../lib/router';
import { useSession } from '../lib/session';
import type { ConnectionView, FastPath } from '../lib/types';
import { useResource } from '../lib/use-resource';
import { ToolSnippets } from './ToolSnippets';

/** The connections I may use; each opens a browser of its data, and each has snippets for the usual tools. */
export function MyDataPage() {
  const { api, me } = useSession();
  const mine = useResource('me/connections', () => api.get<ConnectionView[]>('/api/me/connections'));
  const fastPath = useResource('me/fast-path', () => api.get<FastPath>('/api/me/fast-path'));
  const [chosen, setChosen] = useState<string>();
  const entries = fastPath.data?.connections ?? [];
  const entry = entries.find((e) => e.name === chosen) ?? entries[0];
  const accessOf = (name: string) => entries.find((e) => e.name === name)?.access;
  return (
    <section>
      <PageTitle title="My data">My data</PageTitle>
      <p className="muted">
        Each connection gives you a role session of your own. Your admin properties:{' '}
        {me.propertyNames.length > 0 ? <code>{me.propertyNames.join(', ')}</code> : 'none'}; groups:{' '}
        {me.groups.length > 0 ? me.groups.join(', ') : 'none'}.
      </p>
      <ErrorNotice error={mine.error} />
      {mine.loading && !mine.data && <Loading what="your connections" />}
      {mine.data?.length === 0 && (
        <Empty>No connections are open to you yet. An administrator can share one with you or your groups.</Empty>
      )}
      {mine.data && mine.data.length > 0 && (
        <ul className="cards">
          {mine.data.map((c) => (
            <li key={c.name} className="card">
              <h2>
                <Link to={`/data/${encodeURIComponent(c.name)}`}>{c.name}</Link>
              </h2>
              {c.description && <p>{c.description}</p>}
              <p className="mono muted">
                s3://{c.bucket}/{c.path}
              </p>
              <p>
                {c.readOnly ? <span className="badge">read-only</span> : <span className="badge">read-write</span>}{' '}
                {accessOf(c.name) === 'direct' && <span className="badge">fast path</span>}
                {accessOf(c.name) === 'gateway' && <span className="badge">via the gateway</span>}
              </p>
            </li>
          ))}
        </ul>
      )}
      <ErrorNotice error={fastPath.error} />
      {entry && (
        <section className="panel" aria-labelledby="use-title">
          <h2 id="use-title">Use from code</h2>
          <Field label="Connection">
            {(props) => (
              <select
                {...props}
                name="snippetConnection"
                value={entry.name}
                onChange={(e) => setChosen(e.target.value)}
              >
                {entries.map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <ToolSnippets key={entry.name} entry={entry} gateway={fastPath.data?.gateway} />
        </section>
      )}
    </section>
  );
}
