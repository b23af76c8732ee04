import { type FormEvent, useState } from 'react';
import { ErrorNotice, Field } from '../components/ui';
import { useSession } from '../lib/session';
import type { ConnectionView, Explanation, User } from '../lib/types';
import { useAction } from '../lib/use-action';
import { useResource } from '../lib/use-resource';

const PATH_LABEL = {
  fast: 'fast path: the user may hold the role session',
  slow: 'slow path: through rolegate only',
  none: 'no access',
};

/**
 * "Can user U do X on connection C?", answered by the rules real requests run, without touching S3 or STS.
 * Users may only ask about themselves.
 */
export function ExplainForm() {
  const { api, me } = useSession();
  const isAdmin = me.role === 'admin';
  const users = useResource(`explain-users:${isAdmin}`, () =>
    isAdmin ? api.get<User[]>('/api/users') : Promise.resolve([me]),
  );
  const connections = useResource(`explain-connections:${isAdmin}`, () =>
    api.get<ConnectionView[]>(isAdmin ? '/api/connections' : '/api/me/connections'),
  );
  const [form, setForm] = useState({ user: isAdmin ? '' : me.username, connection: '', key: '', write: false });
  const explanation = useAction<Explanation>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const q = new URLSearchParams({ user: form.user.trim(), connection: form.connection.trim() });
    if (form.key.trim() !== '') q.set('key', form.key.trim());
    if (form.write) q.set('write', 'true');
    await explanation.run(() => api.get<Explanation>(`/api/explain?${q}`));
  }

  return (
    <section className="panel" aria-labelledby="explain-title" id="explain">
      <h2 id="explain-title">Explain</h2>
      <p className="muted">
        Can a user read or write on a connection? The same rules as a real request, without calling S3 or STS.
      </p>
      <form className="inline-form" onSubmit={submit} aria-label="Explain">
        <Field label="User">
          {(props) => (
            <input
              {...props}
              name="explainUser"
              list="explain-users"
              readOnly={!isAdmin}
              required
              value={form.user}
              onChange={(e) => setForm({ ...form, user: e.target.value })}
            />
          )}
        </Field>
        <datalist id="explain-users">
          {users.data?.map((u) => (
            <option key={u.username} value={u.username} />
          ))}
        </datalist>
        <Field label="Connection">
          {(props) => (
            <input
              {...props}
              name="explainConnection"
              list="explain-connections"
              required
              value={form.connection}
              onChange={(e) => setForm({ ...form, connection: e.target.value })}
            />
          )}
        </Field>
        <datalist id="explain-connections">
          {connections.data?.map((c) => (
            <option key={c.name} value={c.name} />
          ))}
        </datalist>
        <Field label="Key (optional)">
          {(props) => (
            <input
              {...props}
              name="explainKey"
              placeholder="2024/q1.csv"
              value={form.key}
              onChange={(e) => setForm({ ...form, key: e.target.value })}
            />
          )}
        </Field>
        <Field label="Write" inline>
          {(props) => (
            <input
              {...props}
              type="checkbox"
              name="explainWrite"
              checked={form.write}
              onChange={(e) => setForm({ ...form, write: e.target.checked })}
            />
          )}
        </Field>
        <button type="submit" disabled={explanation.busy}>
          {explanation.busy ? 'Explaining…' : 'Explain'}
        </button>
      </form>
      <div aria-live="polite" className="explain-result">
        <ErrorNotice error={explanation.error} />
        {explanation.result && <ExplanationView x={explanation.result} />}
      </div>
    </section>
  );
}

function ExplanationView({ x }: { x: Explanation }) {
  return (
    <>
      {x.allowed ? (
        <p className="notice notice-ok">
          <strong>Allowed:</strong> {x.user} on {x.connection}
          {x.key !== undefined && <> ({x.key})</>} — {PATH_LABEL[x.path]}.
        </p>
      ) : (
        <div className="notice notice-error">
          <strong>Denied:</strong> {x.user} on {x.connection}. First denial:{' '}
          <code className="error-code">{x.denial?.code}</code> <span className="error-message">{x.denial?.reason}</span>
        </div>
      )}
      <ol className="steps" aria-label="Steps">
        {x.steps.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: steps are an ordered, fixed list
          <li key={i} className={`step step-${s.outcome}`}>
            <span className={`badge outcome-${s.outcome}`}>{s.outcome}</span> <strong>{s.rule}</strong>: {s.detail}
          </li>
        ))}
      </ol>
      <dl className="fields">
        <div>
          <dt>Resolved role</dt>
          <dd className="mono">{x.roleArn ?? '—'}</dd>
        </div>
        <div>
          <dt>Session name</dt>
          <dd className="mono">{x.sessionName ?? '—'}</dd>
        </div>
        <div>
          <dt>Admin properties used (names only)</dt>
          <dd className="mono">{x.propertiesUsed.join(', ') || '—'}</dd>
        </div>
      </dl>
      {x.sessionPolicy !== undefined && (
        <>
          <h3>Session policy</h3>
          <pre className="session-policy">
            <code>{JSON.stringify(x.sessionPolicy, null, 2)}</code>
          </pre>
        </>
      )}
    </>
  );
}
