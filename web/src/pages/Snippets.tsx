import { admits, describeRule } from '../lib/connection-form';
import { useSession } from '../lib/session';
import type { ConnectionView } from '../lib/types';

/** How to use a connection outside the browser. Never contains a token: `$ROLEGATE_TOKEN` stands for it. */
export function Snippets({ connection, prefix }: { connection: ConnectionView; prefix: string }) {
  const { me } = useSession();
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
  ].join('\n');
  const fast = admits(connection.detailsReadableBy, me.groups);
  return (
    <section className="panel" aria-labelledby="snippets-title">
      <h2 id="snippets-title">Use it from code</h2>
      <h3>Through rolegate (REST)</h3>
      <pre>
        <code>{rest}</code>
      </pre>
      <h3>Fast path</h3>
      {fast ? (
        <>
          <p>
            You may receive the role session itself and talk to S3 directly. The keys reach only{' '}
            <code>
              s3://{connection.bucket}/{connection.path}
            </code>
            , even outside rolegate.
          </p>
          <pre>
            <code>{`curl ${auth} -X POST "${base}/credentials"\n# → AccessKeyId, SecretAccessKey, SessionToken, Expiration, region, endpoint, bucket, prefix`}</code>
          </pre>
        </>
      ) : (
        <p className="muted">
          Not for you on this connection (details readable by: {describeRule(connection.detailsReadableBy)}): use the
          REST calls above, which act with your role session inside rolegate.
        </p>
      )}
    </section>
  );
}
