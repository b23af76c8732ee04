import { invalidInput, RolegateError } from '../errors/errors.js';
import type { Connection } from './model.js';
import { isRoleArn } from './role-arn.js';
import { normalizePathInBucket } from './scope.js';
import { parseTemplate } from './templates.js';

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;
/** Connection names double as bucket names in the S3 gateway, so they follow S3 bucket naming. */
export const CONNECTION_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const ACCESS_KEY_ID = /^[A-Za-z0-9]{3,128}$/;

function bad(field: string, message: string): RolegateError {
  return invalidInput('connection.invalid', `${field}: ${message}`, { details: { field } });
}

function checkUrl(field: string, value: string | undefined): void {
  if (value === undefined) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(field, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(field, 'must be an http(s) URL');
  if (url.username !== '' || url.password !== '') throw bad(field, 'must not contain credentials');
}

function checkTemplate(field: string, template: string): void {
  try {
    parseTemplate(template);
  } catch (e) {
    if (e instanceof RolegateError) throw bad(field, e.message);
    throw e;
  }
}

/**
 * Checks every invariant of a connection and returns it with canonical fields (path normalised).
 * Error messages name the field (`path: …`), never a secret.
 */
export function validateConnection(c: Connection): Connection {
  if (!CONNECTION_NAME.test(c.name)) {
    throw bad(
      'name',
      '3–63 characters: lower-case letters, digits and hyphens, starting and ending with a letter or digit',
    );
  }
  if (c.description.length > 1000) throw bad('description', 'at most 1000 characters');
  if (!BUCKET_NAME.test(c.target.bucket) || c.target.bucket.includes('..')) {
    throw bad('bucket', 'not a valid S3 bucket name');
  }
  if (!REGION.test(c.target.region)) throw bad('region', 'not a valid region name');
  checkUrl('endpoint', c.target.endpoint);
  checkUrl('stsEndpoint', c.target.stsEndpoint);
  let pathInBucket: string;
  try {
    pathInBucket = normalizePathInBucket(c.target.pathInBucket);
  } catch (e) {
    if (e instanceof RolegateError) throw bad('path', e.message);
    throw e;
  }
  if (/[*?]/.test(pathInBucket)) throw bad('path', 'must not contain * or ? (they would widen IAM policy patterns)');
  checkTemplate('sessionNameTemplate', c.sessionNameTemplate);
  for (const pattern of c.allowedRoles) {
    if (pattern.length === 0 || pattern.length > 2048) throw bad('allowedRoles', 'patterns must be 1–2048 characters');
  }
  const needsKeypair = c.mode === 'keypair' || (c.mode === 'assume-role' && c.assumeRole?.master === 'keypair');
  if (needsKeypair && (c.accessKeyId === undefined || !ACCESS_KEY_ID.test(c.accessKeyId))) {
    throw bad('credentials.accessKeyId', 'required for this credentials mode (letters and digits)');
  }
  if (c.mode === 'assume-role') {
    const ar = c.assumeRole;
    if (ar === undefined) throw bad('credentials', 'assume-role needs roleArn and durationSeconds');
    checkTemplate('credentials.roleArn', ar.roleArn);
    if (!ar.roleArn.includes('${') && !isRoleArn(ar.roleArn)) {
      throw bad('credentials.roleArn', 'not a valid IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)');
    }
    if (
      !Number.isInteger(ar.durationSeconds) ||
      ar.durationSeconds < MIN_DURATION_SECONDS ||
      ar.durationSeconds > MAX_DURATION_SECONDS
    ) {
      throw bad(
        'credentials.durationSeconds',
        `must be a whole number from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
      );
    }
    if (ar.externalId !== undefined && !EXTERNAL_ID.test(ar.externalId)) {
      throw bad('credentials.externalId', '2–1224 characters of letters, digits and +=,.@:/-');
    }
  } else if (c.assumeRole !== undefined) {
    throw bad('credentials', `role settings only apply to mode assume-role, not ${c.mode}`);
  }
  if (c.usableBy.kind === 'nobody') throw bad('usableBy', 'must be everyone or a list of groups');
  for (const rule of [c.usableBy, c.detailsReadableBy, ...(c.signingAllowedBy ? [c.signingAllowedBy] : [])]) {
    if (rule.kind === 'groups' && rule.groups.length === 0)
      throw bad('groups', 'a group rule needs at least one group');
  }
  return { ...c, target: { ...c.target, pathInBucket } };
}
