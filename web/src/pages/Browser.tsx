import { type FormEvent, useRef, useState } from 'react';
import { Empty, ErrorNotice, Loading, PageTitle } from '../components/ui';
import { seg } from '../lib/api';
import { admits } from '../lib/connection-form';
import { baseName, breadcrumbs, formatBytes, formatDate } from '../lib/format';
import { Link, useRouter } from '../lib/router';
import { saveBlob } from '../lib/save';
import { useSession } from '../lib/session';
import type { ConnectionView, Listing, PresignedUrl } from '../lib/types';
import { useResource } from '../lib/use-resource';
import { Snippets } from './Snippets';

const PAGE_SIZE = 100;
/** How long a share link stays valid (rolegate caps it at an hour and at the role session's expiry). */
const SHARE_SECONDS = 900;

/** Folders and objects of one connection, read and written through rolegate as the signed-in user. */
export function BrowserPage({ name }: { name: string }) {
  const { api, me } = useSession();
  const { query } = useRouter();
  const prefix = query.get('prefix') ?? '';
  // Cursors of the pages before this one; the last is the current page's cursor.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [pageOf, setPageOf] = useState(prefix);
  if (pageOf !== prefix) {
    setPageOf(prefix);
    setCursors([undefined]);
  }
  const cursor = cursors[cursors.length - 1];
  const connection = useResource(`connection:${name}`, () => api.get<ConnectionView>(`/api/connections/${seg(name)}`));
  const listing = useResource(`list:${name}:${prefix}:${cursor ?? ''}`, () => {
    const q = new URLSearchParams({ prefix, limit: String(PAGE_SIZE) });
    if (cursor !== undefined) q.set('cursor', cursor);
    return api.get<Listing>(`/api/connections/${seg(name)}/objects?${q}`);
  });
  const [actionError, setActionError] = useState<unknown>();
  /** The last share link made, with the key as this page names it (the URL's is the full key in the bucket). */
  const [shared, setShared] = useState<{ key: string; link: PresignedUrl }>();
  const here = (p: string) => `/data/${encodeURIComponent(name)}${p === '' ? '' : `?prefix=${encodeURIComponent(p)}`}`;
  const objectPath = (key: string) => `/api/connections/${seg(name)}/object?key=${encodeURIComponent(key)}`;

  async function download(key: string) {
    setActionError(undefined);
    try {
      saveBlob(await api.blob(objectPath(key)), baseName(key));
    } catch (err) {
      setActionError(err);
    }
  }
  async function share(key: string) {
    setActionError(undefined);
    try {
      const link = await api.send<PresignedUrl>('POST', `/api/connections/${seg(name)}/presign`, {
        key,
        method: 'GET',
        expiresSeconds: SHARE_SECONDS,
      });
      setShared({ key, link });
    } catch (err) {
      setActionError(err);
    }
  }
  async function remove(key: string) {
    if (!window.confirm(`Delete ${key}? This cannot be undone.`)) return;
    setActionError(undefined);
    try {
      await api.send('DELETE', objectPath(key));
      listing.reload();
    } catch (err) {
      setActionError(err);
    }
  }

  const data = listing.data;
  const readOnly = connection.data?.readOnly ?? false;
  // The server decides; this only spares a button that would be refused.
  const canShare = admits(connection.data?.signingAllowedBy ?? 'nobody', me.groups);
  return (
    <section>
      <p className="crumbs">
        <Link to="/data">My data</Link> /
      </p>
      <PageTitle title={name}>{name}</PageTitle>
      {connection.data && (
        <p className="muted mono">
          s3://{connection.data.bucket}/{connection.data.path}
          {readOnly && <span className="badge">read-only</span>}
        </p>
      )}
      <nav aria-label="Folder" className="breadcrumbs">
        <ol>
          <li>
            <Link to={here('')}>{name}</Link>
          </li>
          {breadcrumbs(prefix).map((c) => (
            <li key={c.prefix}>
              <Link to={here(c.prefix)}>{c.label}</Link>
            </li>
          ))}
        </ol>
      </nav>

      {listing.error !== undefined && <ErrorNotice error={listing.error} title="Cannot list:" />}
      <ErrorNotice error={actionError} />
      {shared && <ShareLink objectKey={shared.key} link={shared.link} onClose={() => setShared(undefined)} />}
      {listing.loading && !data && <Loading what="the folder" />}
      {data && data.folders.length === 0 && data.objects.length === 0 && (
        <Empty>{prefix === '' ? 'This connection is empty.' : 'This folder is empty.'}</Empty>
      )}
      {data && (data.folders.length > 0 || data.objects.length > 0) && (
        <table className="listing" aria-busy={listing.loading}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Size</th>
              <th scope="col">Modified</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.folders.map((f) => (
              <tr key={f}>
                <th scope="row">
                  <Link to={here(f)} className="folder">
                    {baseName(f)}
                  </Link>
                </th>
                <td>—</td>
                <td>—</td>
                <td />
              </tr>
            ))}
            {data.objects.map((o) => (
              <tr key={o.key}>
                <th scope="row">{baseName(o.key)}</th>
                <td>{formatBytes(o.size)}</td>
                <td>{formatDate(o.lastModified)}</td>
                <td>
                  <div className="row-actions">
                    <button type="button" className="small" onClick={() => void download(o.key)}>
                      Download <span className="visually-hidden">{baseName(o.key)}</span>
                    </button>
                    {canShare && (
                      <button type="button" className="small" onClick={() => void share(o.key)}>
                        Share link <span className="visually-hidden">{baseName(o.key)}</span>
                      </button>
                    )}
                    {!readOnly && (
                      <button type="button" className="small danger" onClick={() => void remove(o.key)}>
                        Delete <span className="visually-hidden">{baseName(o.key)}</span>
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(cursors.length > 1 || data?.nextCursor) && (
        <div className="pager">
          <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous page
          </button>
          <span>Page {cursors.length}</span>
          <button
            type="button"
            disabled={!data?.nextCursor}
            onClick={() => data?.nextCursor && setCursors((c) => [...c, data.nextCursor])}
          >
            Next page
          </button>
        </div>
      )}
      {!readOnly && listing.error === undefined && (
        <Upload connection={name} prefix={prefix} onUploaded={listing.reload} />
      )}
      {connection.data && <Snippets connection={connection.data} prefix={prefix} />}
    </section>
  );
}

/** A presigned GET URL just made: straight to S3, no rolegate token needed, valid until it expires. */
function ShareLink({ objectKey, link, onClose }: { objectKey: string; link: PresignedUrl; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard.writeText(link.url);
    setCopied(true);
  }
  return (
    <section className="panel share" aria-labelledby="share-title">
      <h2 id="share-title">Share link for {baseName(objectKey)}</h2>
      <p>
        Whoever has this link can download <span className="mono">{objectKey}</span> straight from S3 until{' '}
        <time dateTime={link.expiresAt}>{formatDate(link.expiresAt)}</time>, without a rolegate token: it carries a
        signature and your role session's token. Hand it only to whom the file may go; the audit trail records that you
        made it.
      </p>
      <label htmlFor="share-url">Presigned URL</label>
      <div className="upload-row">
        <input id="share-url" className="mono" readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} />
        {'clipboard' in navigator && (
          <button type="button" onClick={() => void copy()}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}

function Upload({ connection, prefix, onUploaded }: { connection: string; prefix: string; onUploaded: () => void }) {
  const { api } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<number>();
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<unknown>();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const file = input.current?.files?.[0];
    if (file === undefined) return;
    const key = `${prefix}${file.name}`;
    setError(undefined);
    setDone(undefined);
    setProgress(0);
    try {
      await api.upload(`/api/connections/${seg(connection)}/object?key=${encodeURIComponent(key)}`, file, (f) =>
        setProgress(Math.round(f * 100)),
      );
      setDone(`Uploaded ${key} (${formatBytes(file.size)}).`);
      if (input.current) input.current.value = '';
      onUploaded();
    } catch (err) {
      setError(err);
      setProgress(undefined);
    }
  }

  return (
    <form className="panel upload" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <label htmlFor="upload-file">File to upload into {prefix === '' ? 'the connection root' : prefix}</label>
      <div className="upload-row">
        <input id="upload-file" ref={input} type="file" name="file" />
        <button type="submit" disabled={progress !== undefined && progress < 100 && done === undefined && !error}>
          Upload
        </button>
      </div>
      {progress !== undefined && (
        <div className="progress">
          <progress id="upload-progress" max={100} value={progress} aria-label="Upload progress" />
          <output htmlFor="upload-file" aria-live="polite">
            {progress}%
          </output>
        </div>
      )}
      <ErrorNotice error={error} title="Upload failed:" />
      {done && (
        <p className="notice notice-ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
