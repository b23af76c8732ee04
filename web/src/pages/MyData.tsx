import { Empty, ErrorNotice, Loading, PageTitle } from '../components/ui';
import { admits } from '../lib/connection-form';
import { Link } from '../lib/router';
import { useSession } from '../lib/session';
import type { ConnectionView } from '../lib/types';
import { useResource } from '../lib/use-resource';

/** The connections I may use; each opens a browser of its data. */
export function MyDataPage() {
  const { api, me } = useSession();
  const mine = useResource('me/connections', () => api.get<ConnectionView[]>('/api/me/connections'));
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
                {admits(c.detailsReadableBy, me.groups) && <span className="badge">fast path</span>}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
