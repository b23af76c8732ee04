import { type FormEvent, useState } from 'react';
import { Empty, ErrorNotice, Field, Loading, PageTitle } from '../components/ui';
import { seg } from '../lib/api';
import { Link } from '../lib/router';
import { useSession } from '../lib/session';
import type { Group, User } from '../lib/types';
import { useResource } from '../lib/use-resource';

/** Admin: users and groups at a glance; a user's page holds properties, memberships and tokens. */
export function UsersPage() {
  const { api } = useSession();
  const users = useResource('users', () => api.get<User[]>('/api/users'));
  const groups = useResource('groups', () => api.get<Group[]>('/api/groups'));
  return (
    <section>
      <PageTitle title="Users & groups">Users &amp; groups</PageTitle>
      <div className="columns">
        <section aria-labelledby="users-title">
          <h2 id="users-title">Users</h2>
          <ErrorNotice error={users.error} />
          {users.loading && !users.data && <Loading what="users" />}
          {users.data?.length === 0 && <Empty>No users.</Empty>}
          {users.data && users.data.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Admin properties</th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.username}>
                    <th scope="row">
                      <Link to={`/users/${encodeURIComponent(u.username)}`}>{u.username}</Link>
                    </th>
                    <td>{u.role}</td>
                    <td>{u.groups.join(', ') || '—'}</td>
                    <td className="mono">{u.propertyNames.join(', ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <CreateUser onCreated={users.reload} />
        </section>
        <section aria-labelledby="groups-title">
          <h2 id="groups-title">Groups</h2>
          <ErrorNotice error={groups.error} />
          {groups.loading && !groups.data && <Loading what="groups" />}
          {groups.data?.length === 0 && <Empty>No groups yet. Connections can admit groups once they exist.</Empty>}
          {groups.data && groups.data.length > 0 && (
            <GroupTable
              groups={groups.data}
              onChanged={() => {
                groups.reload();
                users.reload();
              }}
            />
          )}
          <CreateGroup onCreated={groups.reload} />
        </section>
      </div>
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<'analyst' | 'admin'>('analyst');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      const user = await api.send<User>('POST', '/api/users', { username: username.trim(), role });
      setDone(`Created ${user.username}. Open it to give it properties and a token.`);
      setUsername('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form onSubmit={submit} className="inline-form" aria-label="Create user">
      <h3>Create user</h3>
      <Field label="Username">
        {(props) => <input {...props} value={username} onChange={(e) => setUsername(e.target.value)} />}
      </Field>
      <Field label="Role">
        {(props) => (
          <select {...props} value={role} onChange={(e) => setRole(e.target.value as 'analyst' | 'admin')}>
            <option value="analyst">analyst</option>
            <option value="admin">admin</option>
          </select>
        )}
      </Field>
      <button type="submit">Create user</button>
      <ErrorNotice error={error} />
      {done && (
        <p className="notice notice-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

function CreateGroup({ onCreated }: { onCreated: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      await api.send('POST', '/api/groups', { name: name.trim(), description });
      setName('');
      setDescription('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <form onSubmit={submit} className="inline-form" aria-label="Create group">
      <h3>Create group</h3>
      <Field label="Group name">
        {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Description">
        {(props) => <input {...props} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <button type="submit">Create group</button>
      <ErrorNotice error={error} />
    </form>
  );
}

function GroupTable({ groups, onChanged }: { groups: Group[]; onChanged: () => void }) {
  const { api } = useSession();
  const [error, setError] = useState<unknown>();
  const act = async (call: Promise<unknown>) => {
    setError(undefined);
    try {
      await call;
      onChanged();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <ErrorNotice error={error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col">Members</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.name}>
              <th scope="row">
                {g.name}
                {g.description && <div className="muted">{g.description}</div>}
              </th>
              <td>
                {g.members.length === 0
                  ? '—'
                  : g.members.map((m) => (
                      <span key={m} className="chip">
                        <Link to={`/users/${encodeURIComponent(m)}`}>{m}</Link>
                        <button
                          type="button"
                          className="link"
                          aria-label={`Remove ${m} from ${g.name}`}
                          onClick={() => void act(api.send('DELETE', `/api/groups/${seg(g.name)}/members/${seg(m)}`))}
                        >
                          ×
                        </button>
                      </span>
                    ))}
              </td>
              <td>
                <button
                  type="button"
                  className="danger small"
                  onClick={() =>
                    window.confirm(`Delete group ${g.name}?`) &&
                    void act(api.send('DELETE', `/api/groups/${seg(g.name)}`))
                  }
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
