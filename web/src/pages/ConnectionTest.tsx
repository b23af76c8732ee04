import { useEffect, useState } from 'react';
import { ErrorNotice, Field } from '../components/ui';
import { seg } from '../lib/api';
import { formatBytes } from '../lib/format';
import { useSession } from '../lib/session';
import type { ConnectionView, Explanation, User } from '../lib/types';
import { useResource } from '../lib/use-resource';

/** POST /api/connections/{name}/test: a real role session and listing as the chosen user, or the exact denial. */
type TestResult =
  | {
      ok: true;
      user: string;
      folders: string[];
      objects: Array<{ key: string; size: number }>;
      truncated: boolean;
      roleArn?: string;
      sessionName?: string;
    }
  | { ok: false; user: string; code: string; message: string };

/**
 * Tests a saved connection for real as a chosen user (the signed-in admin by default): rolegate obtains that user's
 * role session and lists the connection's root. Beside it, a live preview of how the role ARN and session-name
 * templates resolve for that user (GET /api/explain: no STS or S3 call).
 */
export function ConnectionTest({ connection }: { connection: ConnectionView }) {
  const { api, me } = useSession();
  const users = useResource('connection-test-users', () => api.get<User[]>('/api/users'));
  const [user, setUser] = useState(me.username);
  const [state, setState] = useState<{ busy: boolean; result?: TestResult; error?: unknown; at?: string }>({
    busy: false,
  });
  const preview = useRolePreview(connection, user.trim());

  async function run() {
    setState({ busy: true });
    try {
      const result = await api.send<TestResult>('POST', `/api/connections/${seg(connection.name)}/test`, {
        user: user.trim(),
      });
      setState({ busy: false, result, at: new Date().toLocaleTimeString() });
    } catch (error) {
      setState({ busy: false, error, at: new Date().toLocaleTimeString() });
    }
  }

  const result = state.result;
  return (
    <section className="panel connection-test" aria-labelledby="test-title">
      <h2 id="test-title">Test</h2>
      <p className="muted">
        Assumes the role and lists the root of{' '}
        <code>
          s3://{connection.bucket}/{connection.path}
        </code>{' '}
        as the chosen user, with their own admin properties and groups (the saved connection, audited).
      </p>
      <div className="inline-form">
        <Field label="Test as user">
          {(props) => (
            <input
              {...props}
              name="testUser"
              list="connection-test-users"
              value={user}
              onChange={(e) => setUser(e.target.value)}
            />
          )}
        </Field>
        <datalist id="connection-test-users">
          {users.data?.map((u) => (
            <option key={u.username} value={u.username} />
          ))}
        </datalist>
        <button type="button" onClick={() => void run()} disabled={state.busy || user.trim() === ''}>
          {state.busy ? 'Testing…' : 'Test connection'}
        </button>
      </div>
      <section className="role-preview" aria-live="polite" aria-label="Role preview">
        {preview.explanation?.allowed && (
          <dl>
            <dt>Role for {preview.explanation.user}</dt>
            <dd>
              <code>{preview.explanation.roleArn ?? '(none: no role session)'}</code>
            </dd>
            {preview.explanation.sessionName && (
              <>
                <dt>Session name</dt>
                <dd>
                  <code>{preview.explanation.sessionName}</code>
                </dd>
              </>
            )}
          </dl>
        )}
        {preview.explanation && !preview.explanation.allowed && (
          <p className="muted">
            No role for {preview.explanation.user}:{' '}
            <code className="error-code">{preview.explanation.denial?.code}</code> {preview.explanation.denial?.reason}
          </p>
        )}
        {preview.error !== undefined && <ErrorNotice error={preview.error} title="No preview:" />}
      </section>
      <div aria-live="polite" className="test-result">
        {state.error !== undefined && <ErrorNotice error={state.error} title={`Failed (${state.at}):`} />}
        {result && !result.ok && (
          <div className="notice notice-error" role="alert">
            <strong>
              Denied for {result.user} ({state.at}):{' '}
            </strong>
            <code className="error-code">{result.code}</code> <span className="error-message">{result.message}</span>
          </div>
        )}
        {result?.ok && (
          <div className="notice notice-ok">
            <p>
              <strong>
                Works for {result.user} ({state.at}).
              </strong>{' '}
              {result.folders.length} folder(s), {result.objects.length} object(s)
              {result.truncated ? ' and more' : ''} at the root
              {result.roleArn && (
                <>
                  {' '}
                  with <code>{result.roleArn}</code>
                  {result.sessionName && (
                    <>
                      {' '}
                      as <code>{result.sessionName}</code>
                    </>
                  )}
                </>
              )}
              .
            </p>
            <ul className="test-listing">
              {result.folders.map((f) => (
                <li key={f}>{f}</li>
              ))}
              {result.objects.map((o) => (
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

/** The explain answer for (user, connection), refreshed shortly after the user name stops changing. */
function useRolePreview(connection: ConnectionView, user: string) {
  const { api } = useSession();
  const [state, setState] = useState<{ explanation?: Explanation; error?: unknown }>({});
  // biome-ignore lint/correctness/useExhaustiveDependencies: a saved version changes the answer
  useEffect(() => {
    if (user === '') {
      setState({});
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      const q = new URLSearchParams({ user, connection: connection.name });
      api.get<Explanation>(`/api/explain?${q}`).then(
        (explanation) => live && setState({ explanation }),
        (error: unknown) => live && setState({ error }),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, connection.name, connection.version, user]);
  return state;
}
