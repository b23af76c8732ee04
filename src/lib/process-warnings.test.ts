import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { captureProcessWarnings } from './process-warnings.js';

const warning = (message: string, code?: string) => Object.assign(new Error(message), { name: 'Warning', code });

describe('captureProcessWarnings', () => {
  it('replaces the default printer and logs each warning as one line, holding those raised before the logger', () => {
    const target = new EventEmitter();
    let printed = 0;
    target.on('warning', () => printed++);
    const lines: Array<{ obj: unknown; msg: string }> = [];
    const warnings = captureProcessWarnings(target);
    target.emit('warning', warning('early\nsecond line', 'DEP0001'));
    expect(lines).toEqual([]);
    const warn = (obj: unknown, msg?: string): void => {
      lines.push({ obj, msg: msg ?? '' });
    };
    warnings.logTo({ warn: warn as Logger['warn'] });
    target.emit('warning', warning('later'));
    expect(printed).toBe(0);
    expect(lines).toEqual([
      { obj: { warning: { name: 'Warning', code: 'DEP0001', message: 'early\nsecond line' } }, msg: 'process warning' },
      { obj: { warning: { name: 'Warning', message: 'later' } }, msg: 'process warning' },
    ]);
  });

  it('holds a bounded number of warnings until there is a logger', () => {
    const target = new EventEmitter();
    const warnings = captureProcessWarnings(target);
    for (let i = 0; i < 150; i++) target.emit('warning', warning(`w${i}`));
    let count = 0;
    const warn = (): void => {
      count++;
    };
    warnings.logTo({ warn: warn as Logger['warn'] });
    expect(count).toBe(100);
  });
});
