import { Empty, ErrorNotice, Loading, PageTitle } from '../components/ui';
import { describeRule } from '../lib/connection-form';
import { Link } from '../lib/router';
import { useSession } from '../lib/session';
import type { ConnectionView } from '../lib/types';
import { useResource } from '../lib/use-resource';

/** Admin: every connection, with a way to create and edit. */
export function ConnectionsPage() {
  const { api } = useSession();
  const connections = useResource('connections', () => api.get<ConnectionView[]>('/api/connections'));
  return (
    <section>
      <div className="page-head">
        <PageTitle title="Connections">Connections</PageTitle>
        <Link to="/connections/new" className="button">
          New connection
        </Link>
      </div>
      <ErrorNotice error={connections.error} />
      {connections.loading && !connections.data && <Loading what="connections" />}
      {connections.data?.length === 0 && (
        <Empty>
          No connections yet. <Link to="/connections/new">Create the first one</Link>.
        </Empty>
      )}
      {connections.data && connections.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Credentials</th>
              <th scope="col">Location</th>
              <th scope="col">Usable by</th>
              <th scope="col">Details readable by</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {connections.data.map((c) => (
              <tr key={c.name}>
                <th scope="row">
                  <Link to={`/connections/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                  {c.readOnly && <span className="badge">read-only</span>}
                  {c.description && <div className="muted">{c.description}</div>}
                </th>
                <td>
                  {c.credentials.mode}
                  {c.credentials.roleArn && <div className="mono muted">{c.credentials.roleArn}</div>}
                </td>
                <td className="mono">
                  s3://{c.bucket}/{c.path}
                </td>
                <td>{describeRule(c.usableBy)}</td>
                <td>{describeRule(c.detailsReadableBy)}</td>
                <td>{c.version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
