import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { ErrorNotice, ShownOnce } from '../components/ui';
import { seg } from '../lib/api';
import { useSession } from '../lib/session';
import { SNIPPET_KINDS, type SnippetKind, snippet } from '../lib/snippets';
import type { FastPath, FastPathEntry, GatewayKey, IssuedGatewayKey } from '../lib/types';
import { useResource } from '../lib/use-resource';

/**
 * aws CLI, boto3, Spark and `rolegate exec` for one connection: the fast path when rolegate vends credentials to
 * me, else the same through the S3 gateway with one of my gateway keys (created here; the secret is shown once).
 */
export function ToolSnippets({ entry, gateway }: { entry: FastPathEntry; gateway: FastPath['gateway'] }) {
  const [kind, setKind] = useState<SnippetKind>('aws');
  const [keyId, setKeyId] = useState<string>();
  const id = useId();
  const tabs = useRef<Array<HTMLButtonElement | null>>([]);
  const slow = entry.access === 'gateway';

  const onKey = (e: KeyboardEvent, i: number) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    const next = (i + step + SNIPPET_KINDS.length) % SNIPPET_KINDS.length;
    setKind(SNIPPET_KINDS[next]?.kind ?? 'aws');
    tabs.current[next]?.focus();
  };

  return (
    <div className="tool-snippets">
      {slow ? (
        <p className="notice notice-info">
          <strong>Through the S3 gateway</strong> (slow path):{' '}
          {(entry.reason ?? 'rolegate does not hand you credentials').replace(/\.$/, '')}. The gateway acts as you, with
          your role session; bucket = <code>{entry.name}</code>.
        </p>
      ) : (
        <p className="notice notice-ok">
          <strong>Fast path:</strong> rolegate hands you your own role session for{' '}
          <code>
            s3://{entry.bucket}/{entry.path}
          </code>
          ; the keys reach nothing else, even outside rolegate.
        </p>
      )}
      {slow && gateway && <GatewayKeys selected={keyId} onSelect={setKeyId} />}
      <div role="tablist" aria-label={`Snippets for ${entry.name}`} className="tabs">
        {SNIPPET_KINDS.map((k, i) => (
          <button
            key={k.kind}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${id}-${k.kind}`}
            aria-selected={kind === k.kind}
            aria-controls={`${id}-panel`}
            tabIndex={kind === k.kind ? 0 : -1}
            onClick={() => setKind(k.kind)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {k.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-${kind}`}>
        <pre>
          <code>{snippet(kind, entry, gateway && { ...gateway, accessKeyId: keyId })}</code>
        </pre>
      </div>
    </div>
  );
}

/** My gateway keys (ids only); a new one's secret is shown once and never put into a snippet. */
function GatewayKeys({ selected, onSelect }: { selected: string | undefined; onSelect: (id: string) => void }) {
  const { api, me } = useSession();
  const base = `/api/users/${seg(me.username)}/gateway-keys`;
  const keys = useResource(`gateway-keys:${me.username}`, () => api.get<GatewayKey[]>(base));
  const [issued, setIssued] = useState<IssuedGatewayKey>();
  const [error, setError] = useState<unknown>();
  const current = selected ?? keys.data?.[0]?.accessKeyId;
  useEffect(() => {
    if (selected === undefined && current !== undefined) onSelect(current);
  }, [selected, current, onSelect]);

  async function create() {
    setError(undefined);
    try {
      const key = await api.send<IssuedGatewayKey>('POST', base, {
        name: `web-${new Date().toISOString().slice(0, 10)}`,
      });
      setIssued(key);
      onSelect(key.accessKeyId);
      keys.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div className="gateway-keys">
      {issued && (
        <ShownOnce
          secret={issued.secretAccessKey}
          label={`Secret of gateway key ${issued.accessKeyId}`}
          onDone={() => setIssued(undefined)}
        />
      )}
      <div className="inline-form">
        {keys.data && keys.data.length > 0 && (
          <label>
            Gateway key{' '}
            <select value={current} onChange={(e) => onSelect(e.target.value)} name="gatewayKey">
              {keys.data.map((k) => (
                <option key={k.accessKeyId} value={k.accessKeyId}>
                  {k.accessKeyId} ({k.name})
                </option>
              ))}
            </select>
          </label>
        )}
        {keys.data?.length === 0 && <span className="muted">You have no gateway key yet.</span>}
        <button type="button" className="small" onClick={() => void create()}>
          Create gateway key
        </button>
      </div>
      <ErrorNotice error={error ?? keys.error} />
    </div>
  );
}
