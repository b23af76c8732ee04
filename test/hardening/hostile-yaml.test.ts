import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { validateConfigFile } from '../../src/modules/config-as-code/declaration.js';

/**
 * Hostile YAML for config as code. The server never parses YAML (`POST /api/config/plan|apply` take JSON); the CLI
 * reads the file with `yaml`'s `parse` and default options, then `validateConfigFile`. Each document is either
 * refused (a parse error, which `rolegate apply` reports) or parsed and validated within a time bound: no hang,
 * no exception from the validator.
 */
const SEED = 20261123;

/** What `rolegate apply` does with the file's text, timed. */
function readDeclaration(text: string): { outcome: 'refused' | 'valid' | 'invalid'; ms: number } {
  const started = performance.now();
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return { outcome: 'refused', ms: performance.now() - started };
  }
  const checked = validateConfigFile(raw ?? {});
  return { outcome: checked.ok ? 'valid' : 'invalid', ms: performance.now() - started };
}

describe('hostile YAML for config as code (CLI parse + validateConfigFile)', () => {
  it('refuses an alias bomb ("billion laughs") quickly', () => {
    let doc = 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < 10; i++)
      doc += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    const got = readDeclaration(`${doc}groups: *a9\n`);
    expect(got.outcome).toBe('refused');
    expect(got.ms).toBeLessThan(1_000);
    // The bomb hidden inside an otherwise valid declaration, as a group description.
    const inner = readDeclaration(`${doc}groups:\n  - name: g\n    description: *a9\n`);
    expect(inner.outcome).toBe('refused');
    expect(inner.ms).toBeLessThan(1_000);
  });

  it('refuses or bounds deep nesting (flow and block)', () => {
    const depth = 50_000;
    const flow = readDeclaration(`groups: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    expect(flow.outcome).not.toBe('valid');
    expect(flow.ms).toBeLessThan(5_000);
    const block = readDeclaration(
      `${Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} x\n`,
    );
    expect(block.outcome).not.toBe('valid');
    expect(block.ms).toBeLessThan(5_000);
  });

  it('parses and validates a huge document within bounds', () => {
    const groups = Array.from({ length: 20_000 }, (_, i) => ({ name: `group-${i}`, description: 'x'.repeat(100) }));
    const users = Array.from({ length: 5_000 }, (_, i) => ({
      username: `user${i}`,
      groups: [`group-${i % 20_000}`],
      properties: { role: `env:ROLE_${i}` },
    }));
    const text = stringifyYaml({ groups, users });
    expect(text.length).toBeGreaterThan(3_000_000);
    const got = readDeclaration(text);
    expect(got.outcome).toBe('valid');
    expect(got.ms).toBeLessThan(15_000);
    // A megabyte-long scalar and a megabyte of one repeated key are refused by the schema, not by a crash.
    expect(readDeclaration(`groups:\n  - name: ${'g'.repeat(1_000_000)}\n`).outcome).toBe('invalid');
    expect(readDeclaration(`prune: true\n${'prune: true\n'.repeat(100_000)}`).outcome).toBe('refused');
  });

  it('random YAML-ish text never throws past the parser and never hangs', () => {
    const token = fc.constantFrom(
      '&a ',
      '*a',
      '<<: *a',
      '!!binary ',
      '!!python/object ',
      '!custom ',
      '%YAML 1.1\n---\n',
      '---\n',
      '...\n',
      '? ',
      ': ',
      '- ',
      '[',
      ']',
      '{',
      '}',
      ',',
      '|\n',
      '>-\n',
      '"\\u0000"',
      "'",
      '#',
      '\n',
      '  ',
      '\t',
      'groups',
      'users',
      'connections',
      'mounts',
      'prune',
      'name',
      'env:X',
      'file:/etc/passwd',
      '${user}',
      '__proto__',
      'constructor',
      '0x1F',
      '.inf',
      '~',
      'null',
    );
    const doc = fc.oneof(
      fc.array(token, { maxLength: 60 }).map((t) => t.join('')),
      fc.string({ unit: 'binary', maxLength: 300 }),
    );
    fc.assert(
      fc.property(doc, (text) => {
        const got = readDeclaration(text);
        expect(['refused', 'valid', 'invalid']).toContain(got.outcome);
        expect(got.ms).toBeLessThan(1_000);
      }),
      { seed: SEED, numRuns: 400, interruptAfterTimeLimit: 4_000 },
    );
  });

  it('random structures as YAML: __proto__ keys pollute nothing, the validator answers ok or with paths', () => {
    const anything = fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: true });
    const shaped = fc.record({
      groups: fc.array(fc.dictionary(fc.constantFrom('name', 'description', '__proto__'), anything), { maxLength: 3 }),
      users: fc.array(fc.dictionary(fc.constantFrom('username', 'role', 'groups', 'properties'), anything), {
        maxLength: 3,
      }),
      prune: anything,
    });
    fc.assert(
      fc.property(fc.oneof(anything, shaped), (value) => {
        let text: string;
        try {
          text = stringifyYaml(value);
        } catch {
          return;
        }
        const got = readDeclaration(`${text}\n__proto__:\n  polluted: true\n`);
        expect(['refused', 'valid', 'invalid']).toContain(got.outcome);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 300, interruptAfterTimeLimit: 4_000 },
    );
  });
});
