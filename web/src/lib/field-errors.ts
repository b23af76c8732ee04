import { ApiError } from './api';

/**
 * Splits an API error into messages per form field and the rest. The API names the field in
 * `details.field` and starts the message with it (`credentials.durationSeconds: must be …`); schema
 * errors (`request.invalid`) list every issue as `field: message`, separated by `; `.
 */
export function fieldErrors(
  error: unknown,
  knownFields: ReadonlySet<string>,
): { byField: Record<string, string>; rest: unknown } {
  if (!(error instanceof ApiError)) return { byField: {}, rest: error };
  const byField: Record<string, string> = {};
  const detailField = error.body.details?.field;
  if (typeof detailField === 'string' && knownFields.has(detailField)) {
    byField[detailField] = stripField(error.message, detailField);
    return { byField, rest: undefined };
  }
  const issues = error.message.replace(/^invalid [a-z]+: /, '').split('; ');
  const unmatched: string[] = [];
  for (const issue of issues) {
    const match = /^([\w.]+): (.*)$/s.exec(issue);
    const field = match?.[1] !== undefined ? nearestKnown(match[1], knownFields) : undefined;
    if (field !== undefined && match?.[2] !== undefined && byField[field] === undefined) byField[field] = match[2];
    else unmatched.push(issue);
  }
  if (unmatched.length === 0) return { byField, rest: undefined };
  if (Object.keys(byField).length === 0) return { byField, rest: error };
  return { byField, rest: new ApiError(error.status, { ...error.body, message: unmatched.join('; ') }) };
}

const stripField = (message: string, field: string) =>
  message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;

/** `credentials.roleArn` → itself; `allowedRoles.2` → `allowedRoles`; `usableBy.groups.0` → `usableBy`. */
function nearestKnown(path: string, known: ReadonlySet<string>): string | undefined {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.');
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}
