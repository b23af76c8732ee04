import { ErrorNotice } from '../components/ui';
import { useSession } from '../lib/session';
import type { ConnectionView, FastPath } from '../lib/types';
import { useResource } from '../lib/use-resource';
import { ToolSnippets } from './ToolSnippets';

/** How to use a connection outside the browser. Never contains a token: `$ROLEGATE_TOKEN` stands for it. */
export function Snippets({ connection, prefix }: { connection: ConnectionView; prefix: string }) {
  const { api } = useSession();
  const fastPath = useResource('me/fast-path', () => api.get<FastPath>('/api/me/fast-path'));
  const entry = fastPath.data?.connections.find((c) => c.name === connection.name);
  const origin = window.location.origin;
  const base = `$ROLEGATE/api/connections/${encodeURIComponent(connection.name)}`;
  const auth = '-H "Authorization: Bearer $ROLEGATE_TOKEN"';
  const key = `${prefix}example.csv`;
  const q = (k: string) => encodeURIComponent(k);
  const rest = [
    `export ROLEGATE=${origin}`,
    'export ROLEGATE_TOKEN=rg_…   # your API token',
    '',
    '# list a folder',
    `curl ${auth} "${base}/objects?prefix=${q(prefix)}"`,
    '# download an object',
    `curl ${auth} -o example.csv "${base}/object?key=${q(key)}"`,
    ...(connection.readOnly
      ? []
      : [
          '# upload (streamed) and delete',
          `curl ${auth} -T example.csv "${base}/object?key=${q(key)}"`,
          `curl ${auth} -X DELETE "${base}/object?key=${q(key)}"`,
        ]),
    ...(entry?.access === 'direct'
      ? [
          '# your role session itself (fast path)',
          `curl ${auth} -X POST "${base}/credentials"`,
          '# → AccessKeyId, SecretAccessKey, SessionToken, Expiration, region, endpoint, bucket, prefix',
        ]
      : []),
  ].join('\n');
  return (
    <section className="panel" aria-labelledby="snippets-title">
      <h2 id="snippets-title">Use it from code</h2>
      <h3>Through rolegate (REST)</h3>
      <pre>
        <code>{rest}</code>
      </pre>
      <h3>Tools</h3>
      <ErrorNotice error={fastPath.error} />
      {entry && <ToolSnippets entry={entry} gateway={fastPath.data?.gateway} />}
    </section>
  );
}
