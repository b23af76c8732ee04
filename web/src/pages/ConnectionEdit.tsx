import { type FormEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { ErrorNotice, Field, Loading, PageTitle } from '../components/ui';
import { ApiError, seg } from '../lib/api';
import {
  CONNECTION_FIELDS,
  type ConnectionForm,
  connectionFormFrom,
  connectionInputFrom,
  emptyConnectionForm,
} from '../lib/connection-form';
import { fieldErrors } from '../lib/field-errors';
import { Link, useRouter } from '../lib/router';
import { useSession } from '../lib/session';
import type { ConnectionView } from '../lib/types';
import { useResource } from '../lib/use-resource';
import { ConnectionTest } from './ConnectionTest';

/** Admin: create a connection (no name) or edit one, then test it. */
export function ConnectionEditPage({ name }: { name?: string }) {
  const { api } = useSession();
  const { query } = useRouter();
  const existing = useResource(`connection:${name ?? ''}`, () =>
    name === undefined ? Promise.resolve(undefined) : api.get<ConnectionView>(`/api/connections/${seg(name)}`),
  );
  const title = name === undefined ? 'New connection' : `Connection ${name}`;
  return (
    <section>
      <p className="crumbs">
        <Link to="/connections">Connections</Link> /
      </p>
      <PageTitle title={title}>{title}</PageTitle>
      <ErrorNotice error={existing.error} />
      {query.has('created') && existing.data && (
        <p className="notice notice-ok" role="status">
          Created {existing.data.name}. Test it below.
        </p>
      )}
      {existing.loading && !existing.data && name !== undefined && <Loading what="the connection" />}
      {(name === undefined || existing.data) && (
        <ConnectionEditor key={name ?? ''} existing={existing.data} onSaved={existing.reload} />
      )}
    </section>
  );
}

/** Which form input shows the API's error for a field. */
const FORM_KEY_OF_FIELD: Record<string, keyof ConnectionForm> = {
  'credentials.mode': 'mode',
  'credentials.roleArn': 'roleArn',
  'credentials.externalId': 'externalId',
  'credentials.durationSeconds': 'durationSeconds',
  'credentials.master': 'master',
  'credentials.accessKeyId': 'accessKeyId',
  'credentials.secretAccessKey': 'secretAccessKey',
};
const formKey = (field: string) => FORM_KEY_OF_FIELD[field] ?? (field as keyof ConnectionForm);

function ConnectionEditor({ existing, onSaved }: { existing: ConnectionView | undefined; onSaved: () => void }) {
  const { api } = useSession();
  const { navigate } = useRouter();
  const [form, setForm] = useState<ConnectionForm>(() =>
    existing ? connectionFormFrom(existing) : emptyConnectionForm(),
  );
  const [errors, setErrors] = useState<Partial<Record<keyof ConnectionForm, string>>>({});
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  // After a refused save, move focus to the first field the API complained about.
  useEffect(() => {
    if (Object.keys(errors).length > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const set = <K extends keyof ConnectionForm>(key: K, value: ConnectionForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(undefined);
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    setSaved(undefined);
    try {
      const body = connectionInputFrom(form);
      const view = existing
        ? await api.send<ConnectionView>(
            'PUT',
            `/api/connections/${seg(existing.name)}?expectedVersion=${existing.version}`,
            body,
          )
        : await api.send<ConnectionView>('POST', '/api/connections', body);
      // Secrets are write-only: the form forgets them once the API has them.
      setForm(connectionFormFrom(view));
      setSaved(`Saved ${view.name} (version ${view.version}).`);
      if (existing) onSaved();
      else navigate(`/connections/${encodeURIComponent(view.name)}?created=1`, { replace: true });
    } catch (err) {
      const split = fieldErrors(err, CONNECTION_FIELDS);
      const byKey: Partial<Record<keyof ConnectionForm, string>> = {};
      for (const [field, message] of Object.entries(split.byField)) byKey[formKey(field)] = message;
      if (err instanceof ApiError && err.code === 'connection.exists') byKey.name = err.message;
      setErrors(byKey);
      setFailure(byKey.name && err instanceof ApiError && err.code === 'connection.exists' ? undefined : split.rest);
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!existing || !window.confirm(`Delete connection ${existing.name}? Users lose access at once.`)) return;
    try {
      await api.send('DELETE', `/api/connections/${seg(existing.name)}`);
      navigate('/connections');
    } catch (err) {
      setFailure(err);
    }
  }

  const text = (key: keyof ConnectionForm, label: string, hint?: ReactNode, extra: { placeholder?: string } = {}) => (
    <Field label={label} hint={hint} error={errors[key]}>
      {(props) => (
        <input
          {...props}
          {...extra}
          name={key}
          value={form[key] as string}
          onChange={(e) => set(key, e.target.value as never)}
          disabled={key === 'name' && existing !== undefined}
        />
      )}
    </Field>
  );
  const check = (key: 'forcePathStyle' | 'useBucketRegion' | 'readOnly', label: string, hint: string) => (
    <Field label={label} hint={hint} error={errors[key]} inline>
      {(props) => (
        <input {...props} name={key} type="checkbox" checked={form[key]} onChange={(e) => set(key, e.target.checked)} />
      )}
    </Field>
  );
  const secret = (key: 'secretAccessKey' | 'externalId', label: string, hint: string) => (
    <Field label={label} hint={hint} error={errors[key]}>
      {(props) => (
        <input
          {...props}
          name={key}
          type="password"
          autoComplete="new-password"
          value={form[key]}
          onChange={(e) => set(key, e.target.value)}
        />
      )}
    </Field>
  );
  const secretKeptHint = existing?.credentials.secretStored
    ? 'A secret is stored. Leave empty to keep it (same access key id), or type a new one.'
    : 'Write-only: it is stored encrypted and never shown again.';
  const keypairFields = (
    <>
      {text('accessKeyId', 'Access key id')}
      {secret('secretAccessKey', 'Secret access key', secretKeptHint)}
    </>
  );

  return (
    <>
      <form ref={formRef} onSubmit={submit} noValidate className="connection-form">
        <fieldset>
          <legend>Connection</legend>
          {text('name', 'Name', 'Lower-case letters, digits and hyphens; cannot be changed later.')}
          {text('description', 'Description')}
        </fieldset>

        <fieldset>
          <legend>Where the data is</legend>
          {text('bucket', 'Bucket')}
          {text('path', 'Path in bucket', 'A folder such as sales/ — every session is confined to it.')}
          {text('region', 'Region')}
          {text('endpoint', 'S3 endpoint', 'Leave empty for AWS; an http(s) URL for other S3 services.')}
          {text('stsEndpoint', 'STS endpoint', 'Leave empty to use the regional AWS STS (or the S3 endpoint).')}
          {check('forcePathStyle', 'Path-style addressing', 'endpoint/bucket/key instead of bucket.endpoint/key.')}
          {check('useBucketRegion', 'Use the bucket’s own region', 'Ask S3 where the bucket is, and sign for it.')}
          {check('readOnly', 'Read-only', 'Sessions get no write or delete rights.')}
        </fieldset>

        <fieldset>
          <legend>Credentials</legend>
          <Field label="Credentials mode" error={errors.mode}>
            {(props) => (
              <select
                {...props}
                name="mode"
                value={form.mode}
                onChange={(e) => set('mode', e.target.value as ConnectionForm['mode'])}
              >
                <option value="assume-role">assume-role — a role session per user (STS AssumeRole)</option>
                <option value="keypair">keypair — one stored access key</option>
                <option value="per-user-keypair">per-user-keypair — each user stores their own key</option>
                <option value="environment">environment — rolegate’s own AWS credentials</option>
              </select>
            )}
          </Field>
          {form.mode === 'assume-role' && (
            <>
              {text(
                'roleArn',
                'Role ARN template',
                <>
                  An ARN, or a template with <code>{'${user}'}</code>, <code>{'${connection}'}</code>,{' '}
                  <code>{'${adminProperty:NAME}'}</code>.
                </>,
                { placeholder: '${adminProperty:salesRole}' },
              )}
              {text(
                'externalId',
                'External ID',
                'Optional; sent with every AssumeRole (not a secret: it guards against the confused deputy).',
              )}
              <Field label="Session duration (seconds)" hint="900 to 43200." error={errors.durationSeconds}>
                {(props) => (
                  <input
                    {...props}
                    name="durationSeconds"
                    inputMode="numeric"
                    value={form.durationSeconds}
                    onChange={(e) => set('durationSeconds', e.target.value)}
                  />
                )}
              </Field>
              <Field label="Master credentials" error={errors.master}>
                {(props) => (
                  <select
                    {...props}
                    name="master"
                    value={form.master}
                    onChange={(e) => set('master', e.target.value as ConnectionForm['master'])}
                  >
                    <option value="environment">rolegate’s environment (AWS default chain)</option>
                    <option value="keypair">a stored key pair</option>
                  </select>
                )}
              </Field>
              {form.master === 'keypair' && keypairFields}
            </>
          )}
          {form.mode === 'keypair' && keypairFields}
          {text(
            'sessionNameTemplate',
            'Session-name template',
            'Shown in CloudTrail; empty for the default (rg-${connection}-for-${user}).',
          )}
          <Field
            label="Allowed roles"
            hint="One glob per line (arn:aws:iam::123456789012:role/sales-*); empty allows any valid role."
            error={errors.allowedRoles}
          >
            {(props) => (
              <textarea
                {...props}
                name="allowedRoles"
                rows={3}
                value={form.allowedRoles}
                onChange={(e) => set('allowedRoles', e.target.value)}
              />
            )}
          </Field>
        </fieldset>

        <fieldset>
          <legend>Who may use it</legend>
          <RuleField
            label="Usable by"
            name="usableBy"
            choices={['everyone', 'groups']}
            value={form.usableBy}
            groups={form.usableByGroups}
            error={errors.usableBy}
            onChange={(v, g) => {
              set('usableBy', v as ConnectionForm['usableBy']);
              set('usableByGroups', g);
            }}
          />
          <RuleField
            label="Details readable by (raw temporary credentials)"
            name="detailsReadableBy"
            choices={['nobody', 'everyone', 'groups']}
            value={form.detailsReadableBy}
            groups={form.detailsReadableByGroups}
            error={errors.detailsReadableBy}
            onChange={(v, g) => {
              set('detailsReadableBy', v as ConnectionForm['detailsReadableBy']);
              set('detailsReadableByGroups', g);
            }}
          />
          <RuleField
            label="Signing allowed by (rolegate signs requests and presigns URLs; data goes straight to S3)"
            name="signingAllowedBy"
            choices={['nobody', 'everyone', 'groups']}
            value={form.signingAllowedBy}
            groups={form.signingAllowedByGroups}
            error={errors.signingAllowedBy}
            onChange={(v, g) => {
              set('signingAllowedBy', v as ConnectionForm['signingAllowedBy']);
              set('signingAllowedByGroups', g);
            }}
          />
        </fieldset>

        <ErrorNotice error={failure} title="Not saved:" />
        {saved && (
          <p className="notice notice-ok" role="status">
            {saved}
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : existing ? 'Save changes' : 'Create connection'}
          </button>
          {existing && (
            <button type="button" className="danger" onClick={() => void remove()}>
              Delete connection
            </button>
          )}
        </div>
      </form>
      {existing && <ConnectionTest connection={existing} />}
    </>
  );
}

function RuleField({
  label,
  name,
  choices,
  value,
  groups,
  error,
  onChange,
}: {
  label: string;
  name: string;
  choices: string[];
  value: string;
  groups: string;
  error: string | undefined;
  onChange: (value: string, groups: string) => void;
}) {
  return (
    <fieldset className={`rule${error ? ' field-invalid' : ''}`}>
      <legend>{label}</legend>
      {choices.map((choice) => (
        <label key={choice} className="radio">
          <input
            type="radio"
            name={name}
            value={choice}
            checked={value === choice}
            onChange={() => onChange(choice, groups)}
          />{' '}
          {choice}
        </label>
      ))}
      {value === 'groups' && (
        <Field label={`${label}: groups`} hint="Group names, separated by commas.">
          {(props) => <input {...props} value={groups} onChange={(e) => onChange(value, e.target.value)} />}
        </Field>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </fieldset>
  );
}
