import type { AccessRule, ConnectionInput, ConnectionView, CredentialsMode, MasterSource } from './types';

/** The connection form's state: one string or flag per input. Secrets start empty and are sent only if typed. */
export interface ConnectionForm {
  name: string;
  description: string;
  bucket: string;
  path: string;
  region: string;
  endpoint: string;
  stsEndpoint: string;
  forcePathStyle: boolean;
  useBucketRegion: boolean;
  readOnly: boolean;
  mode: CredentialsMode;
  roleArn: string;
  externalId: string;
  durationSeconds: string;
  master: MasterSource;
  accessKeyId: string;
  secretAccessKey: string;
  usableBy: 'everyone' | 'groups';
  usableByGroups: string;
  detailsReadableBy: 'nobody' | 'everyone' | 'groups';
  detailsReadableByGroups: string;
  signingAllowedBy: 'nobody' | 'everyone' | 'groups';
  signingAllowedByGroups: string;
  allowedRoles: string;
  sessionNameTemplate: string;
}

/** The API's field names (as in its error messages) that the form shows inline. */
export const CONNECTION_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'description',
  'bucket',
  'path',
  'region',
  'endpoint',
  'stsEndpoint',
  'forcePathStyle',
  'useBucketRegion',
  'readOnly',
  'credentials.mode',
  'credentials.roleArn',
  'credentials.externalId',
  'credentials.durationSeconds',
  'credentials.master',
  'credentials.accessKeyId',
  'credentials.secretAccessKey',
  'usableBy',
  'detailsReadableBy',
  'signingAllowedBy',
  'allowedRoles',
  'sessionNameTemplate',
]);

export function emptyConnectionForm(): ConnectionForm {
  return {
    name: '',
    description: '',
    bucket: '',
    path: '',
    region: 'us-east-1',
    endpoint: '',
    stsEndpoint: '',
    forcePathStyle: false,
    useBucketRegion: false,
    readOnly: false,
    mode: 'assume-role',
    roleArn: '',
    externalId: '',
    durationSeconds: '3600',
    master: 'environment',
    accessKeyId: '',
    secretAccessKey: '',
    usableBy: 'everyone',
    usableByGroups: '',
    detailsReadableBy: 'nobody',
    detailsReadableByGroups: '',
    signingAllowedBy: 'nobody',
    signingAllowedByGroups: '',
    allowedRoles: '',
    sessionNameTemplate: '',
  };
}

const groupsOf = (rule: AccessRule) => (typeof rule === 'object' ? rule.groups.join(', ') : '');
const kindOf = (rule: AccessRule) => (typeof rule === 'object' ? 'groups' : rule);

export function connectionFormFrom(view: ConnectionView): ConnectionForm {
  const c = view.credentials;
  return {
    ...emptyConnectionForm(),
    name: view.name,
    description: view.description,
    bucket: view.bucket,
    path: view.path,
    region: view.region,
    endpoint: view.endpoint ?? '',
    stsEndpoint: view.stsEndpoint ?? '',
    forcePathStyle: view.forcePathStyle,
    useBucketRegion: view.useBucketRegion,
    readOnly: view.readOnly,
    mode: c.mode,
    roleArn: c.roleArn ?? '',
    externalId: c.externalId ?? '',
    durationSeconds: String(c.durationSeconds ?? 3600),
    master: c.master ?? 'environment',
    accessKeyId: c.accessKeyId ?? '',
    // 'nobody' is refused by the API for usableBy; show what is stored and let the API say so.
    usableBy: kindOf(view.usableBy) === 'groups' ? 'groups' : 'everyone',
    usableByGroups: groupsOf(view.usableBy),
    detailsReadableBy: kindOf(view.detailsReadableBy),
    detailsReadableByGroups: groupsOf(view.detailsReadableBy),
    signingAllowedBy: kindOf(view.signingAllowedBy ?? 'nobody'),
    signingAllowedByGroups: groupsOf(view.signingAllowedBy ?? 'nobody'),
    allowedRoles: view.allowedRoles.join('\n'),
    sessionNameTemplate: view.sessionNameTemplate,
  };
}

const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
const list = (value: string, separator: RegExp) =>
  value
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '');

function rule(kind: 'everyone' | 'nobody' | 'groups', groups: string): AccessRule {
  return kind === 'groups' ? { groups: list(groups, /[,\s]+/) } : kind;
}

/** The request body for the form; empty optional inputs are left out, so the API's defaults apply. */
export function connectionInputFrom(form: ConnectionForm): ConnectionInput {
  const keypair = { accessKeyId: form.accessKeyId.trim(), secretAccessKey: form.secretAccessKey || undefined };
  let credentials: ConnectionInput['credentials'];
  switch (form.mode) {
    case 'environment':
    case 'per-user-keypair':
      credentials = { mode: form.mode };
      break;
    case 'keypair':
      credentials = { mode: 'keypair', ...keypair };
      break;
    case 'assume-role':
      credentials = {
        mode: 'assume-role',
        roleArn: form.roleArn.trim(),
        externalId: optional(form.externalId),
        // A non-number is sent as null so that the API names the field.
        durationSeconds: form.durationSeconds.trim() === '' ? undefined : Number(form.durationSeconds),
        master: form.master,
        ...(form.master === 'keypair' ? keypair : {}),
      };
      break;
  }
  return {
    name: form.name.trim(),
    description: form.description,
    bucket: form.bucket.trim(),
    path: form.path.trim(),
    region: form.region.trim(),
    endpoint: optional(form.endpoint),
    stsEndpoint: optional(form.stsEndpoint),
    forcePathStyle: form.forcePathStyle,
    useBucketRegion: form.useBucketRegion,
    readOnly: form.readOnly,
    credentials,
    usableBy: rule(form.usableBy, form.usableByGroups),
    detailsReadableBy: rule(form.detailsReadableBy, form.detailsReadableByGroups),
    signingAllowedBy: rule(form.signingAllowedBy, form.signingAllowedByGroups),
    allowedRoles: list(form.allowedRoles, /\n/),
    sessionNameTemplate: optional(form.sessionNameTemplate),
  };
}

/** Human words for an access rule. */
export function describeRule(rule: AccessRule): string {
  return typeof rule === 'object' ? `groups: ${rule.groups.join(', ')}` : rule;
}

/** Whether `me` may receive raw credentials (the fast path) under `rule`. */
export function admits(rule: AccessRule, myGroups: readonly string[]): boolean {
  return rule === 'everyone' || (typeof rule === 'object' && rule.groups.some((g) => myGroups.includes(g)));
}
