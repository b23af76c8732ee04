// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${...} placeholders.
import { describe, expect, it } from 'vitest';
import { isRolegateError, type RolegateError } from '../errors/errors.js';
import { DEFAULT_SESSION_NAME_TEMPLATE } from './model.js';
import {
  MAX_TEMPLATE_CHARS,
  parseTemplate,
  referencedProperties,
  renderTemplate,
  type TemplateContext,
} from './templates.js';

function caught(fn: () => unknown): RolegateError {
  try {
    fn();
  } catch (e) {
    if (isRolegateError(e)) return e;
    throw e;
  }
  throw new Error('expected a RolegateError');
}

const bob: TemplateContext = {
  user: 'bob',
  connection: 's3-marketing',
  adminProperties: { salesRole: 'arn:aws:iam::123456789012:role/sales', 'team.name_x-1': 'blue' },
};

describe('parseTemplate', () => {
  it('splits literals and variables', () => {
    expect(parseTemplate(DEFAULT_SESSION_NAME_TEMPLATE)).toEqual([
      { type: 'literal', text: 'rg-' },
      { type: 'variable', name: 'connection' },
      { type: 'literal', text: '-for-' },
      { type: 'variable', name: 'user' },
    ]);
    expect(parseTemplate('${adminProperty:salesRole}')).toEqual([
      { type: 'variable', name: 'adminProperty', property: 'salesRole' },
    ]);
    expect(parseTemplate('${user}${user}')).toHaveLength(2);
  });

  it('returns no parts for an empty template and one literal for plain text', () => {
    expect(parseTemplate('')).toEqual([]);
    expect(parseTemplate('arn:aws:iam::1:role/x')).toEqual([{ type: 'literal', text: 'arn:aws:iam::1:role/x' }]);
  });

  it('keeps a $ that does not open a variable, and a lone }', () => {
    expect(parseTemplate('cost$5 {x} $ $$ }')).toEqual([{ type: 'literal', text: 'cost$5 {x} $ $$ }' }]);
    expect(parseTemplate('$${user}$')).toEqual([
      { type: 'literal', text: '$' },
      { type: 'variable', name: 'user' },
      { type: 'literal', text: '$' },
    ]);
  });

  it.each([
    ['unknown variable', '${users}'],
    ['unknown variable (case)', '${User}'],
    ['unknown variable with spaces', '${ user }'],
    ['aws policy variable', '${aws:username}'],
    ['unterminated', 'rg-${user'],
    ['unterminated at end', 'rg-${'],
    ['nested', '${adminProperty:${user}}'],
    ['nested in unknown', '${a${user}}'],
    ['empty name', 'x${}y'],
    ['empty property name', '${adminProperty:}'],
    ['property name with bad chars', '${adminProperty:sales role}'],
    ['property name with slash', '${adminProperty:a/b}'],
    ['property name too long', `\${adminProperty:${'a'.repeat(65)}}`],
    ['adminProperty without colon', '${adminProperty}'],
  ])('refuses %s', (_label, template) => {
    const e = caught(() => parseTemplate(template));
    expect(e.kind).toBe('InvalidInput');
    expect(e.code).toBe('template.invalid');
  });

  it('accepts property names up to 64 chars of [A-Za-z0-9_.-]', () => {
    const name = `Aa0_.-${'z'.repeat(58)}`;
    expect(parseTemplate(`\${adminProperty:${name}}`)).toEqual([
      { type: 'variable', name: 'adminProperty', property: name },
    ]);
  });

  it('refuses templates over the length limit, accepts the limit', () => {
    expect(parseTemplate('a'.repeat(MAX_TEMPLATE_CHARS))).toHaveLength(1);
    const e = caught(() => parseTemplate('a'.repeat(MAX_TEMPLATE_CHARS + 1)));
    expect(e.code).toBe('template.invalid');
    expect(e.message).toContain(String(MAX_TEMPLATE_CHARS));
  });

  it('names the problem and keeps the message bounded', () => {
    const e = caught(() => parseTemplate(`\${${'x'.repeat(1000)}}`));
    expect(e.message).toContain('unknown variable');
    expect(e.message.length).toBeLessThan(300);
  });
});

describe('referencedProperties', () => {
  it('lists each property once in order of first use', () => {
    expect(referencedProperties('${adminProperty:b}-${user}-${adminProperty:a}-${adminProperty:b}')).toEqual([
      'b',
      'a',
    ]);
    expect(referencedProperties(DEFAULT_SESSION_NAME_TEMPLATE)).toEqual([]);
  });

  it('throws on an invalid template', () => {
    expect(caught(() => referencedProperties('${adminProperty:')).code).toBe('template.invalid');
  });
});

describe('renderTemplate', () => {
  it('substitutes user, connection and admin properties', () => {
    expect(renderTemplate(DEFAULT_SESSION_NAME_TEMPLATE, bob, 's3-marketing')).toBe('rg-s3-marketing-for-bob');
    expect(renderTemplate('${adminProperty:salesRole}', bob, 's3-marketing')).toBe(
      'arn:aws:iam::123456789012:role/sales',
    );
    expect(renderTemplate('${adminProperty:team.name_x-1}/$x', bob, 'c')).toBe('blue/$x');
  });

  it('never re-parses substituted values', () => {
    const ctx: TemplateContext = {
      user: '${adminProperty:secret}',
      connection: '${user}',
      adminProperties: { role: '${user}', secret: 'TOPSECRET' },
    };
    expect(renderTemplate('${user}|${connection}|${adminProperty:role}', ctx, 'c')).toBe(
      '${adminProperty:secret}|${user}|${user}',
    );
  });

  it('denies with the property and connection named when a property is missing', () => {
    const e = caught(() =>
      renderTemplate('${adminProperty:salesRole}', { ...bob, adminProperties: {} }, 's3-marketing'),
    );
    expect(e.kind).toBe('PermissionDenied');
    expect(e.code).toBe('template.property_missing');
    expect(e.message).toBe(
      'Permission denied: admin property "salesRole" is not set for user "bob", required by connection "s3-marketing"',
    );
    expect(e.details).toEqual({ property: 'salesRole', connection: 's3-marketing' });
  });

  it('treats an empty property as missing', () => {
    const ctx = { ...bob, adminProperties: { salesRole: '' } };
    expect(caught(() => renderTemplate('${adminProperty:salesRole}', ctx, 'c')).code).toBe('template.property_missing');
  });

  it('never puts any property value in the error', () => {
    const ctx = { ...bob, adminProperties: { present: 'VALUE-SHOULD-NOT-LEAK', other: 'ALSO-SECRET' } };
    const e = caught(() => renderTemplate('${adminProperty:present}${adminProperty:absent}', ctx, 'c'));
    expect(e.message).toContain('"absent"');
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toMatch(/VALUE-SHOULD-NOT-LEAK|ALSO-SECRET/);
  });

  it('does not resolve properties from the object prototype', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const e = caught(() => renderTemplate(`\${adminProperty:${name}}`, bob, 'c'));
      expect(e.code).toBe('template.property_missing');
    }
  });

  it('quotes hostile user names safely in the message', () => {
    const ctx = { ...bob, user: 'eve"\n', adminProperties: {} };
    const e = caught(() => renderTemplate('${adminProperty:x}', ctx, 'c'));
    expect(e.message).toContain('user "eve\\"\\n"');
  });

  it('rejects an invalid template before looking anything up', () => {
    expect(caught(() => renderTemplate('${nope}', bob, 'c')).code).toBe('template.invalid');
  });
});
