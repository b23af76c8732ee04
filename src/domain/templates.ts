/**
 * `${...}` templates for role ARNs and session names. A template is parsed before it is rendered, and
 * substituted values are appended as plain text, so a value can never smuggle in another placeholder.
 */
import { invalidInput, permissionDenied } from '../errors/errors.js';
import { memoized } from '../lib/memoized.js';

/** What a template may be rendered against. `adminProperties` are set by an admin on the user. */
export interface TemplateContext {
  user: string;
  connection: string;
  adminProperties: Readonly<Record<string, string>>;
  /** The current role of the caller's rolegate session, for `${sessionRole}`; absent outside a session. */
  sessionRole?: string | undefined;
}

/** One piece of a parsed template. */
export type TemplatePart =
  | { readonly type: 'literal'; readonly text: string }
  | { readonly type: 'variable'; readonly name: 'user' | 'connection' | 'sessionRole' }
  | { readonly type: 'variable'; readonly name: 'adminProperty'; readonly property: string };

/** Longest template accepted; role ARNs (the longest rendered value) are capped at 2048 by IAM. */
export const MAX_TEMPLATE_CHARS = 2048;

const PROPERTY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ADMIN_PROPERTY = 'adminProperty:';

function invalid(problem: string): never {
  throw invalidInput('template.invalid', `Invalid template: ${problem}`);
}

/** Quotes admin-written template text for an error message, bounded so a huge template stays readable. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function parseVariable(body: string, at: number): TemplatePart {
  if (body === '') invalid(`empty variable name at position ${at}`);
  if (body === 'user' || body === 'connection' || body === 'sessionRole') return { type: 'variable', name: body };
  if (body.startsWith(ADMIN_PROPERTY)) {
    const property = body.slice(ADMIN_PROPERTY.length);
    if (property === '') invalid(`empty admin property name at position ${at}`);
    if (!PROPERTY_NAME.test(property)) {
      invalid(`admin property name ${quote(property)} at position ${at} must match [A-Za-z0-9_.-]{1,64}`);
    }
    return { type: 'variable', name: 'adminProperty', property };
  }
  return invalid(
    `unknown variable ${quote(body)} at position ${at}; expected \${user}, \${connection}, \${sessionRole} or \${adminProperty:NAME}`,
  );
}

/**
 * Splits a template into literal text and variables.
 *
 * @throws RolegateError `template.invalid` on unknown variables, an unterminated or nested `${`, an empty
 *   name, or a template longer than {@link MAX_TEMPLATE_CHARS}. A `$` not followed by `{` is literal.
 */
export const parseTemplate: (template: string) => readonly TemplatePart[] = memoized(parseUncached);

function parseUncached(template: string): readonly TemplatePart[] {
  if (template.length > MAX_TEMPLATE_CHARS) {
    invalid(`template is ${template.length} characters, the limit is ${MAX_TEMPLATE_CHARS}`);
  }
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const start = template.indexOf('${', i);
    if (start === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, start);
    const end = template.indexOf('}', start + 2);
    if (end === -1) invalid(`unterminated "\${" at position ${start}`);
    const nested = template.indexOf('${', start + 2);
    if (nested !== -1 && nested < end) invalid(`nested "\${" at position ${nested}`);
    if (literal !== '') {
      parts.push({ type: 'literal', text: literal });
      literal = '';
    }
    parts.push(parseVariable(template.slice(start + 2, end), start));
    i = end + 1;
  }
  if (literal !== '') parts.push({ type: 'literal', text: literal });
  return parts;
}

/** Admin property names a template reads, each once, in order of first use. */
export function referencedProperties(template: string): string[] {
  const names = new Set<string>();
  for (const part of parseTemplate(template)) {
    if (part.type === 'variable' && part.name === 'adminProperty') names.add(part.property);
  }
  return [...names];
}

function lookupProperty(ctx: TemplateContext, property: string, connectionName: string): string {
  // Own string properties only: `constructor` or `__proto__` must not resolve to Object.prototype members.
  const value = Object.hasOwn(ctx.adminProperties, property) ? ctx.adminProperties[property] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw permissionDenied(
      'template.property_missing',
      `Permission denied: admin property ${JSON.stringify(property)} is not set for user ${JSON.stringify(ctx.user)}, ` +
        `required by connection ${JSON.stringify(connectionName)}`,
      { details: { property, connection: connectionName } },
    );
  }
  return value;
}

function sessionRoleOf(ctx: TemplateContext, connectionName: string): string {
  if (ctx.sessionRole === undefined || ctx.sessionRole === '') {
    throw permissionDenied(
      'template.session_role_missing',
      `Permission denied: connection ${JSON.stringify(connectionName)} uses the role of your rolegate session, ` +
        'and this request has none: create a session (POST /api/sessions, `rolegate assume ROLE`) with an entitled role',
      { details: { connection: connectionName } },
    );
  }
  return ctx.sessionRole;
}

/**
 * Renders a template for one user and connection. Substituted values are never re-parsed.
 *
 * @param connectionName named in the error when a property is missing.
 * @throws RolegateError `template.invalid` when the template does not parse; `template.property_missing`
 *   (PermissionDenied) when an admin property is absent or empty. Messages never contain property values.
 */
export function renderTemplate(template: string, ctx: TemplateContext, connectionName: string): string {
  let out = '';
  for (const part of parseTemplate(template)) {
    if (part.type === 'literal') out += part.text;
    else if (part.name === 'adminProperty') out += lookupProperty(ctx, part.property, connectionName);
    else if (part.name === 'sessionRole') out += sessionRoleOf(ctx, connectionName);
    else out += part.name === 'user' ? ctx.user : ctx.connection;
  }
  return out;
}
