import { describe, expect, it } from 'vitest';
import { baseName, breadcrumbs, formatBytes } from './format';

describe('format', () => {
  it('builds breadcrumbs from a folder prefix', () => {
    expect(breadcrumbs('')).toEqual([]);
    expect(breadcrumbs('2024/q1/')).toEqual([
      { label: '2024', prefix: '2024/' },
      { label: 'q1', prefix: '2024/q1/' },
    ]);
  });

  it('names keys and folders by their last segment', () => {
    expect(baseName('2024/q1.csv')).toBe('q1.csv');
    expect(baseName('2024/q1/')).toBe('q1/');
    expect(baseName('top.csv')).toBe('top.csv');
  });

  it('formats sizes', () => {
    expect(formatBytes(36)).toBe('36 B');
    expect(formatBytes(360_000)).toBe('352 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });
});
