import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Empty, ErrorNotice, Field, Loading, PageTitle } from '../components/ui';
import { type AuditFilters, auditApiQuery, filtersFrom, filtersToQuery } from '../lib/audit-query';
import { formatDate } from '../lib/format';
import { useRouter } from '../lib/router';
import { saveBlob } from '../lib/save';
import { useSession } from '../lib/session';
import type { AuditEvent, AuditPage as AuditPageData, ChainVerdict } from '../lib/types';
import { useAction } from '../lib/use-action';
import { useResource } from '../lib/use-resource';
import { ExplainForm } from './Explain';

const PAGE_SIZE = 50;
/** Suggestions for the action filter (it matches exactly); any other action can be typed. */
const ACTIONS = [
  'access.read',
  'access.write',
  'connection.create',
  'connection.update',
  'connection.delete',
  'credentials.issue',
  'explain',
  'key.create',
  'key.revoke',
  'object.delete',
  'object.get',
  'object.list',
  'object.put',
  'property.set',
  'property.delete',
  'session.create',
  'session.role_switch',
  'token.create',
  'token.revoke',
  'upload.sweep_abort',
  'user.create',
];

/** The audit trail (admins: every event; users: their own), its chain check and export, and explain. */
export function AuditPage() {
  const { api, me } = useSession();
  const isAdmin = me.role === 'admin';
  const { query, navigate } = useRouter();
  const filters = filtersFrom(query);
  const search = filtersToQuery(filters).toString();
  // `before` of the pages before this one; the last is the current page's.
  const [pages, setPages] = useState<Array<number | undefined>>([undefined]);
  const [pagesOf, setPagesOf] = useState(search);
  if (pagesOf !== search) {
    setPagesOf(search);
    setPages([undefined]);
  }
  const before = pages[pages.length - 1];
  const apiQuery = auditApiQuery(filters, { before, limit: PAGE_SIZE });
  const events = useResource(`audit:${apiQuery}`, () => api.get<AuditPageData>(`/api/audit?${apiQuery}`));
  const [selected, setSelected] = useState<AuditEvent>();
  const data = events.data;

  return (
    <section>
      <PageTitle title="Audit">{isAdmin ? 'Audit' : 'My activity'}</PageTitle>
      <p className="muted">
        {isAdmin ? 'Every decision and data operation, newest first.' : 'Your own requests, newest first.'} Events name
        users, roles, session names and access key ids, never a secret.
      </p>
      <Filters
        key={search}
        initial={filters}
        isAdmin={isAdmin}
        onSearch={(f) => {
          const q = filtersToQuery(f).toString();
          navigate(q === '' ? '/audit' : `/audit?${q}`);
        }}
      />
      {isAdmin && (
        <div className="actions">
          <VerifyChain />
          <UnfinishedChanges onOpen={setSelected} />
          <Export filters={filters} />
        </div>
      )}
      {selected && <EventDetail event={selected} onClose={() => setSelected(undefined)} />}
      <ErrorNotice error={events.error} />
      {events.loading && !data && <Loading what="events" />}
      {data?.events.length === 0 && <Empty>No events match these filters.</Empty>}
      {data && data.events.length > 0 && (
        <table className="audit" aria-busy={events.loading} aria-label="Audit events">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">User</th>
              <th scope="col">Action</th>
              <th scope="col">Connection</th>
              <th scope="col">Object</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {data.events.map((e) => (
              <tr key={e.seq} className={selected?.seq === e.seq ? 'selected' : undefined}>
                <th scope="row">
                  <button type="button" className="link" onClick={() => setSelected(e)} aria-label={`Event ${e.seq}`}>
                    {e.seq}
                  </button>
                </th>
                <td>{formatDate(e.time)}</td>
                <td>{e.actor ?? '—'}</td>
                <td className="mono">{e.action}</td>
                <td>{e.connection ?? '—'}</td>
                <td className="mono">{e.key ?? '—'}</td>
                <td>
                  <Outcome event={e} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(pages.length > 1 || data?.nextBefore !== undefined) && (
        <div className="pager">
          <button type="button" disabled={pages.length <= 1} onClick={() => setPages((p) => p.slice(0, -1))}>
            Newer
          </button>
          <span>Page {pages.length}</span>
          <button
            type="button"
            disabled={data?.nextBefore === undefined}
            onClick={() => data?.nextBefore !== undefined && setPages((p) => [...p, data.nextBefore])}
          >
            Older
          </button>
        </div>
      )}
      <ExplainForm />
    </section>
  );
}

function Outcome({ event }: { event: AuditEvent }) {
  return (
    <>
      <span className={`badge outcome-${event.outcome}`}>{event.outcome}</span>
      {event.reasonCode && <div className="mono muted">{event.reasonCode}</div>}
    </>
  );
}

function Filters({
  initial,
  isAdmin,
  onSearch,
}: {
  initial: AuditFilters;
  isAdmin: boolean;
  onSearch: (f: AuditFilters) => void;
}) {
  const [f, setF] = useState(initial);
  const text = (key: keyof AuditFilters, label: string, extra: { list?: string; type?: string } = {}) => (
    <Field label={label}>
      {(props) => (
        <input
          {...props}
          {...extra}
          name={key}
          value={f[key]}
          onChange={(e) => setF({ ...f, [key]: e.target.value })}
        />
      )}
    </Field>
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(f);
  };
  return (
    <form className="inline-form panel filters" onSubmit={submit} aria-label="Search events">
      {isAdmin && text('user', 'User')}
      {text('connection', 'Connection')}
      {text('action', 'Action', { list: 'audit-actions' })}
      <datalist id="audit-actions">
        {ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <Field label="Outcome">
        {(props) => (
          <select {...props} name="outcome" value={f.outcome} onChange={(e) => setF({ ...f, outcome: e.target.value })}>
            <option value="">any</option>
            <option value="requested">requested</option>
            <option value="allowed">allowed</option>
            <option value="denied">denied</option>
            <option value="error">error</option>
          </select>
        )}
      </Field>
      {text('sessionName', 'Session name')}
      {text('keyPrefix', 'Key prefix')}
      {text('since', 'From', { type: 'datetime-local' })}
      {text('until', 'Until', { type: 'datetime-local' })}
      <div className="actions">
        <button type="submit">Search</button>
        <button type="button" className="secondary" onClick={() => onSearch(filtersFrom(new URLSearchParams()))}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** Every field of one event (the API has no secret to show). */
function EventDetail({ event, onClose }: { event: AuditEvent; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const { details, ...fields } = event;
  const rows: Array<[string, string]> = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [k, k === 'time' ? `${String(v)} (${formatDate(String(v))})` : String(v)]);
  for (const [k, v] of Object.entries(details ?? {})) rows.push([`details.${k}`, String(v)]);
  return (
    <section className="panel" aria-labelledby="event-title">
      <div className="page-head">
        <h2 id="event-title" ref={heading} tabIndex={-1}>
          Event {event.seq}: {event.action}
        </h2>
        <button type="button" className="secondary small" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="fields">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="mono">{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function VerifyChain() {
  const { api } = useSession();
  const verify = useAction<ChainVerdict>();
  const v = verify.result;
  return (
    <div className="verify">
      <button
        type="button"
        onClick={() => void verify.run(() => api.get<ChainVerdict>('/api/audit/verify'))}
        disabled={verify.busy}
      >
        {verify.busy ? 'Verifying…' : 'Verify chain'}
      </button>
      <div aria-live="polite" className="verify-result">
        <ErrorNotice error={verify.error} />
        {v?.ok === true && (
          <p className="notice notice-ok">
            <strong>Chain intact:</strong> {v.checked} event(s) checked from #{v.anchorSeq}, head #{v.head.seq}{' '}
            <code>{v.head.hash.slice(0, 16)}…</code>
          </p>
        )}
        {v?.ok === false && (
          <p className="notice notice-error">
            <strong>Chain broken at event #{v.seq}:</strong> {v.reason} ({v.checked} event(s) checked)
          </p>
        )}
      </div>
    </div>
  );
}

/**
 * Changes recorded as requested whose end never was (the process died, or the trail failed after the change),
 * at least `olderThan` seconds old: a younger one may still be running.
 */
function UnfinishedChanges({ onOpen }: { onOpen: (event: AuditEvent) => void }) {
  const { api } = useSession();
  const [olderThan, setOlderThan] = useState('60');
  const unfinished = useAction<AuditEvent[]>();
  const look = () =>
    unfinished.run(async () => {
      const query = new URLSearchParams({ olderThanSeconds: olderThan });
      return (await api.get<{ events: AuditEvent[] }>(`/api/audit/unfinished?${query}`)).events;
    });
  const found = unfinished.result;
  return (
    <div className="verify">
      <button type="button" onClick={() => void look()} disabled={unfinished.busy}>
        {unfinished.busy ? 'Looking…' : 'Unfinished changes'}
      </button>
      <label className="inline-field">
        older than{' '}
        <input
          type="number"
          min={0}
          max={86400}
          value={olderThan}
          onChange={(e) => setOlderThan(e.target.value)}
          aria-label="Older than (seconds)"
        />{' '}
        s
      </label>
      <div aria-live="polite" className="unfinished-result">
        <ErrorNotice error={unfinished.error} />
        {found?.length === 0 && (
          <p className="notice notice-ok">
            <strong>No unfinished changes:</strong> every change requested ended recorded.
          </p>
        )}
        {found !== undefined && found.length > 0 && (
          <div className="notice notice-error">
            <strong>{found.length} change(s) never recorded as ended:</strong>
            <ul>
              {found.map((e) => (
                <li key={e.seq}>
                  <button type="button" className="link" onClick={() => onOpen(e)}>
                    #{e.seq} {e.action} by {e.actor ?? '-'} at {e.time}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}

/** The export of the filters' time range, fetched with the token and saved as a file. */
function Export({ filters }: { filters: AuditFilters }) {
  const { api } = useSession();
  const [error, setError] = useState<unknown>();
  async function save(format: 'csv' | 'jsonl') {
    setError(undefined);
    const range = { ...filtersFrom(new URLSearchParams()), since: filters.since, until: filters.until };
    try {
      const blob = await api.blob(`/api/audit/export?${auditApiQuery(range, { format })}`);
      saveBlob(blob, `rolegate-audit-${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.${format}`);
    } catch (err) {
      setError(err);
    }
  }
  return (
    <>
      <button type="button" className="secondary" onClick={() => void save('csv')}>
        Export CSV
      </button>
      <button type="button" className="secondary" onClick={() => void save('jsonl')}>
        Export JSON lines
      </button>
      <ErrorNotice error={error} />
    </>
  );
}
