import { type FormEvent, useState } from 'react';
import { Empty, ErrorNotice, Field, Loading, PageTitle, ShownOnce } from '../components/ui';
import { seg } from '../lib/api';
import { formatDate } from '../lib/format';
import { Link, useRouter } from '../lib/router';
import { useSession } from '../lib/session';
import type { Group, IssuedToken, TokenInfo, User } from '../lib/types';
import { useResource } from '../lib/use-resource';

/** Admin: one user's admin properties (names only; values are write-only), groups and API tokens. */
export function UserPage({ username }: { username: string }) {
  const { api, me } = useSession();
  const { navigate } = useRouter();
  const base = `/api/users/${seg(username)}`;
  const user = useResource(`user:${username}`, () => api.get<User>(base));
  const [error, setError] = useState<unknown>();

  async function remove() {
    if (!window.confirm(`Delete user ${username}? Their tokens stop working at once.`)) return;
    try {
      await api.send('DELETE', base);
      navigate('/users');
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section>
      <p className="crumbs">
        <Link to="/users">Users &amp; groups</Link> /
      </p>
      <PageTitle title={`User ${username}`}>User {username}</PageTitle>
      <ErrorNotice error={user.error} />
      {user.loading && !user.data && <Loading what="the user" />}
      {user.data && (
        <>
          <p>
            Role <strong>{user.data.role}</strong>, created {formatDate(user.data.createdAt)}.
          </p>
          <Properties user={user.data} onChanged={user.reload} />
          <Memberships user={user.data} onChanged={user.reload} />
          <Tokens username={username} />
          <section className="panel" aria-labelledby="danger-title">
            <h2 id="danger-title">Delete</h2>
            <ErrorNotice error={error} />
            <button type="button" className="danger" onClick={() => void remove()} disabled={username === me.username}>
              Delete user {username}
            </button>
          </section>
        </>
      )}
    </section>
  );
}

function Properties({ user, onChanged }: { user: User; onChanged: () => void }) {
  const { api } = useSession();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const base = `/api/users/${seg(user.username)}/properties`;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setDone(undefined);
    try {
      await api.send('PUT', `${base}/${seg(name.trim())}`, { value });
      setDone(`Set ${name.trim()} for ${user.username}.`);
      // The value is write-only: it leaves the page as soon as the API has it.
      setName('');
      setValue('');
      onChanged();
    } catch (err) {
      setError(err);
    }
  }
  async function remove(property: string) {
    setError(undefined);
    setDone(undefined);
    try {
      await api.send('DELETE', `${base}/${seg(property)}`);
      setDone(`Removed ${property} from ${user.username}.`);
      onChanged();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="panel" aria-labelledby="props-title">
      <h2 id="props-title">Admin properties</h2>
      <p className="muted">
        Used by templates such as <code>{'${adminProperty:salesRole}'}</code>. Values are write-only: only names are
        shown.
      </p>
      {user.propertyNames.length === 0 ? (
        <Empty>No properties.</Empty>
      ) : (
        <ul className="plain-list" aria-label="Property names">
          {user.propertyNames.map((p) => (
            <li key={p}>
              <code>{p}</code>{' '}
              <button type="button" className="link" onClick={() => void remove(p)} aria-label={`Remove property ${p}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} className="inline-form" aria-label="Set property">
        <Field label="Property name">
          {(props) => <input {...props} name="propertyName" value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Value">
          {(props) => (
            <input
              {...props}
              name="propertyValue"
              type="password"
              autoComplete="off"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          )}
        </Field>
        <button type="submit">Set property</button>
      </form>
      <ErrorNotice error={error} />
      {done && (
        <p className="notice notice-ok" role="status">
          {done}
        </p>
      )}
    </section>
  );
}

function Memberships({ user, onChanged }: { user: User; onChanged: () => void }) {
  const { api } = useSession();
  const groups = useResource('groups', () => api.get<Group[]>('/api/groups'));
  const [group, setGroup] = useState('');
  const [error, setError] = useState<unknown>();
  const others = (groups.data ?? []).filter((g) => !user.groups.includes(g.name));

  const act = async (method: 'PUT' | 'DELETE', name: string) => {
    setError(undefined);
    try {
      await api.send(method, `/api/groups/${seg(name)}/members/${seg(user.username)}`);
      setGroup('');
      onChanged();
      groups.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section className="panel" aria-labelledby="groups-title">
      <h2 id="groups-title">Groups</h2>
      {user.groups.length === 0 ? (
        <Empty>Not a member of any group.</Empty>
      ) : (
        <ul className="plain-list">
          {user.groups.map((g) => (
            <li key={g}>
              {g}{' '}
              <button type="button" className="link" onClick={() => void act('DELETE', g)} aria-label={`Leave ${g}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {others.length > 0 && (
        <form
          className="inline-form"
          aria-label="Add to group"
          onSubmit={(e) => {
            e.preventDefault();
            if (group !== '') void act('PUT', group);
          }}
        >
          <Field label="Add to group">
            {(props) => (
              <select {...props} value={group} onChange={(e) => setGroup(e.target.value)}>
                <option value="">Choose a group…</option>
                {others.map((g) => (
                  <option key={g.name} value={g.name}>
                    {g.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" disabled={group === ''}>
            Add
          </button>
        </form>
      )}
      <ErrorNotice error={error ?? groups.error} />
    </section>
  );
}

function Tokens({ username }: { username: string }) {
  const { api } = useSession();
  const base = `/api/users/${seg(username)}/tokens`;
  const tokens = useResource(`tokens:${username}`, () => api.get<TokenInfo[]>(base));
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [issued, setIssued] = useState<IssuedToken>();
  const [error, setError] = useState<unknown>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const body = days.trim() === '' ? { name: name.trim() } : { name: name.trim(), expiresInDays: Number(days) };
      setIssued(await api.send<IssuedToken>('POST', base, body));
      setName('');
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(token: TokenInfo) {
    if (!window.confirm(`Revoke token ${token.name}? Programs using it stop working at once.`)) return;
    setError(undefined);
    try {
      await api.send('DELETE', `${base}/${seg(token.id)}`);
      tokens.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <section className="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      {issued && (
        <ShownOnce secret={issued.token} label={`New token ${issued.name}`} onDone={() => setIssued(undefined)} />
      )}
      {tokens.loading && !tokens.data && <Loading what="tokens" />}
      {tokens.data?.length === 0 && <Empty>No tokens: this user cannot sign in or call the API.</Empty>}
      {tokens.data && tokens.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <th scope="row">{t.name}</th>
                <td>{formatDate(t.createdAt)}</td>
                <td>{t.expiresAt ? formatDate(t.expiresAt) : 'never'}</td>
                <td>{formatDate(t.lastUsedAt)}</td>
                <td>
                  <button type="button" className="danger small" onClick={() => void revoke(t)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={submit} className="inline-form" aria-label="Create token">
        <Field label="Token name">
          {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Expires in days" hint="1–3650; empty for never.">
          {(props) => <input {...props} inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />}
        </Field>
        <button type="submit">Create token</button>
      </form>
      <ErrorNotice error={error ?? tokens.error} />
    </section>
  );
}
