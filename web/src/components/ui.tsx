import { type ReactNode, useEffect, useId, useRef } from 'react';
import { ApiError } from '../lib/api';

/** The page's heading; it takes focus when the page opens, so keyboard and screen-reader users land on it. */
export function PageTitle({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · rolegate`;
    ref.current?.focus();
  }, [title]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** An error as the API gave it: code, message and request id (for the server log). */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  const body =
    error instanceof ApiError
      ? error.body
      : { code: 'ui.error', message: error instanceof Error ? error.message : String(error), requestId: undefined };
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title} </strong>}
      <code className="error-code">{body.code}</code> <span className="error-message">{body.message}</span>
      {body.requestId && <small className="request-id"> (request {body.requestId})</small>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export interface FieldControlProps {
  id: string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
}

/** A labelled form control with its hint and its inline error (announced, and linked by aria-describedby). */
export function Field({
  label,
  hint,
  error,
  children,
  inline,
}: {
  label: string;
  hint?: ReactNode;
  error?: string;
  inline?: boolean;
  children: (props: FieldControlProps) => ReactNode;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  const control = children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy });
  return (
    <div className={`field${inline ? ' field-inline' : ''}${error ? ' field-invalid' : ''}`}>
      {inline ? control : null}
      <label htmlFor={id}>{label}</label>
      {inline ? null : control}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <span id={errorId} className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Shows an API token once, right after it was issued; it is gone from the page when dismissed. */
export function ShownOnce({ secret, label, onDone }: { secret: string; label: string; onDone: () => void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.select(), []);
  return (
    <div className="notice notice-secret" role="status">
      <p>
        <strong>{label}</strong> — copy it now: it is shown only this once.
      </p>
      <input ref={ref} readOnly value={secret} aria-label={label} className="secret" />
      <div className="actions">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
