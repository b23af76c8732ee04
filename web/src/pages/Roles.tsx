import { type FormEvent, useState } from 'react';
import { Empty, ErrorNotice, Field, Loading, PageTitle, ShownOnce } from '../components/ui';
import { seg } from '../lib/api';
import { formatDate } from '../lib/format';
import { useSession } from '../lib/session';
import type { CreatedSession, EntitledRoles, RoleSource, SessionView } from '../lib/types';
import { useResource } from '../lib/use-resource';

const sourceLabel = (s: RoleSource) =>
  s.kind === 'idp' ? `identity provider ${s.provider}` : `property ${s.property}`;

/** My entitled roles, and my rolegate sessions with the role each one uses. */
export function RolesPage() {
  const { api } = useSession();
  const roles = useResource('me/roles', () => api.get<EntitledRoles>('/api/me/roles'));
  const sessions = useResource('sessions', () => api.get<SessionView[]>('/api/sessions'));
  const current = roles.data?.session;
  const roleArns = roles.data?.roles.map((r) => r.roleArn) ?? [];

  return (
    <section>
      <PageTitle title="Roles & sessions">Roles &amp; sessions</PageTitle>
      <p className="muted">
        Connections whose role ARN is <code>{'${sessionRole}'}</code> use the role of the session a request is made
        with. Start a session for a notebook, a job or a shell, and switch its role among the ones you are entitled to.
      </p>
      {current && (
        <p className="notice notice-ok" role="status">
          This tab is signed in with session <code>{current.id}</code>, current role{' '}
          <code>{current.roleArn ?? 'none'}</code>.
        </p>
      )}
      <section className="panel" aria-labelledby="roles-title">
        <h2 id="roles-title">My roles</h2>
        <ErrorNotice error={roles.error} />
        {roles.loading && !roles.data && <Loading what="your roles" />}
        {roles.data?.roles.length === 0 && (
          <Empty>
            No entitled roles: an administrator grants one by setting a role ARN as one of your admin properties, or
            your identity provider does at sign-in.
          </Empty>
        )}
        {roles.data && roles.data.roles.length > 0 && (
          <table aria-label="My roles">
            <thead>
              <tr>
                <th scope="col">Role ARN</th>
                <th scope="col">Granted by</th>
              </tr>
            </thead>
            <tbody>
              {roles.data.roles.map((r) => (
                <tr key={r.roleArn}>
                  <th scope="row" className="mono">
                    {r.roleArn}
                    {current?.roleArn === r.roleArn && <span className="badge">current</span>}
                  </th>
                  <td>{r.sources.map(sourceLabel).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="panel" aria-labelledby="sessions-title">
        <h2 id="sessions-title">My sessions</h2>
        <ErrorNotice error={sessions.error} />
        {sessions.loading && !sessions.data && <Loading what="your sessions" />}
        {sessions.data?.length === 0 && <Empty>No sessions yet.</Empty>}
        {sessions.data && sessions.data.length > 0 && (
          <SessionTable sessions={sessions.data} currentId={current?.id} onChanged={sessions.reload} />
        )}
        <CreateSession roleArns={roleArns} onCreated={sessions.reload} />
        {sessions.data && sessions.data.length > 0 && (
          <SwitchRole sessions={sessions.data} roleArns={roleArns} onSwitched={sessions.reload} />
        )}
      </section>
    </section>
  );
}

function SessionTable({
  sessions,
  currentId,
  onChanged,
}: {
  sessions: SessionView[];
  currentId: string | undefined;
  onChanged: () => void;
}) {
  const { api } = useSession();
  const [error, setError] = useState<unknown>();
  async function end(s: SessionView) {
    if (!window.confirm(`End session ${s.name}? Its token stops working at once.`)) return;
    setError(undefined);
    try {
      await api.send('DELETE', `/api/sessions/${seg(s.id)}`);
      onChanged();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <ErrorNotice error={error} />
      <table aria-label="My sessions">
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id}>
              <th scope="row">
                {s.name}
                {s.id === currentId && <span className="badge">this tab</span>}
                <div className="mono muted">{s.id}</div>
              </th>
              <td className="mono">{s.roleArn ?? '—'}</td>
              <td>{formatDate(s.createdAt)}</td>
              <td>{formatDate(s.expiresAt)}</td>
              <td>
                <button type="button" className="danger small" onClick={() => void end(s)}>
                  End <span className="visually-hidden">{s.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function CreateSession({ roleArns, onCreated }: { roleArns: string[]; onCreated: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [role, setRole] = useState('');
  const [issued, setIssued] = useState<CreatedSession>();
  const [error, setError] = useState<unknown>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const body = { ...(name.trim() && { name: name.trim() }), ...(role && { roleArn: role }) };
      setIssued(await api.send<CreatedSession>('POST', '/api/sessions', body));
      setName('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      {issued && (
        <ShownOnce secret={issued.token} label={`Session token ${issued.name}`} onDone={() => setIssued(undefined)} />
      )}
      <form className="inline-form" onSubmit={submit} aria-label="Start a session">
        <h3>Start a session</h3>
        <Field label="Session name" hint="Letters, digits, spaces and ._@:-">
          {(props) => (
            <input
              {...props}
              name="sessionName"
              placeholder="notebook"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Role">
          {(props) => (
            <select {...props} name="sessionRole" value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="">{roleArns[0] ? 'my first role' : 'no role'}</option>
              {roleArns.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit">Start session</button>
        <ErrorNotice error={error} />
      </form>
    </>
  );
}

function SwitchRole({
  sessions,
  roleArns,
  onSwitched,
}: {
  sessions: SessionView[];
  roleArns: string[];
  onSwitched: () => void;
}) {
  const { api } = useSession();
  const [id, setId] = useState(sessions[0]?.id ?? '');
  const [role, setRole] = useState('');
  const [result, setResult] = useState<{ done?: string; error?: unknown }>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setResult({});
    try {
      const s = await api.send<SessionView>('POST', `/api/sessions/${seg(id)}/role`, { roleArn: role.trim() });
      setResult({ done: `Session ${s.name} now uses ${s.roleArn}.` });
      onSwitched();
    } catch (error) {
      setResult({ error });
    }
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Switch role">
      <h3>Switch role</h3>
      <Field label="Session to switch">
        {(props) => (
          <select {...props} name="switchSession" value={id} onChange={(e) => setId(e.target.value)}>
            {sessions.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.id})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="New role ARN" hint="One of your roles; any other is refused.">
        {(props) => (
          <input
            {...props}
            name="switchRole"
            list="entitled-roles"
            required
            value={role}
            onChange={(e) => setRole(e.target.value)}
          />
        )}
      </Field>
      <datalist id="entitled-roles">
        {roleArns.map((r) => (
          <option key={r} value={r} />
        ))}
      </datalist>
      <button type="submit">Switch</button>
      <div aria-live="polite" className="switch-result">
        <ErrorNotice error={result.error} title="Refused:" />
        {result.done && <p className="notice notice-ok">{result.done}</p>}
      </div>
    </form>
  );
}
