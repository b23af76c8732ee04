import { describe, expect, it } from 'vitest';
import {
  checkDatasetName,
  checkFileName,
  checkPartition,
  datasetLocation,
  locationsOverlap,
  type Manifest,
  type ManifestFile,
  nextManifest,
  parsePartitionSpec,
  partitionPath,
} from './dataset.js';

describe('names and locations', () => {
  it('keeps names lower-case snake case', () => {
    expect(checkDatasetName('dataset', 'orders_2024')).toBe('orders_2024');
    for (const bad of ['Orders', '1x', 'a-b', '', 'a'.repeat(65)]) {
      expect(() => checkDatasetName('dataset', bad)).toThrow(/Invalid dataset name/);
    }
  });
  it('defaults the location to <project>/<dataset>/ and canonicalises given ones', () => {
    expect(datasetLocation('p', 'd')).toBe('p/d/');
    expect(datasetLocation('p', 'd', 'x/y')).toBe('x/y/');
    for (const bad of ['/abs', '../up', 'a//b', 'a/*', 'a/${x}', '', 'a/_hidden', '.dot']) {
      expect(() => datasetLocation('p', 'd', bad)).toThrow(/Invalid location/);
    }
  });
  it('detects overlapping locations', () => {
    expect(locationsOverlap('a/b/', 'a/')).toBe(true);
    expect(locationsOverlap('a/b/', 'a/bc/')).toBe(false);
  });
  it('refuses file names that are folders, hidden or odd', () => {
    expect(checkFileName('part-0.csv')).toBe('part-0.csv');
    for (const bad of ['a/b.csv', '_x.csv', '.x', 'a..b', 'x y']) expect(() => checkFileName(bad)).toThrow();
  });
});

describe('partitions', () => {
  it('takes exactly the partition columns, with plain values', () => {
    expect(checkPartition(['day'], { day: '2024-01-01' })).toEqual({ day: '2024-01-01' });
    expect(() => checkPartition(['day'], {})).toThrow(/values for exactly day/);
    expect(() => checkPartition([], { day: 'x' })).toThrow(/no partition values/);
    expect(() => checkPartition(['day'], { day: '../x' })).toThrow(/Invalid partition value/);
    expect(partitionPath(['a', 'b'], { b: '2', a: '1' })).toBe('a=1/b=2/');
    expect(parsePartitionSpec('a=1/b=2')).toEqual({ a: '1', b: '2' });
    expect(() => parsePartitionSpec('oops')).toThrow();
  });
});

describe('manifests', () => {
  const f = (key: string, day?: string): ManifestFile => ({ key, size: 1, rows: 1, partition: day ? { day } : {} });
  const current: Manifest = { version: 3, files: [f('a', '1'), f('b', '2')] };
  it('appends, or overwrites the written partition only, and says what was replaced', () => {
    expect(nextManifest(current, 'append', { day: '1' }, [f('c', '1')]).manifest).toEqual({
      version: 4,
      files: [f('a', '1'), f('b', '2'), f('c', '1')],
    });
    const over = nextManifest(current, 'overwrite', { day: '1' }, [f('c', '1')]);
    expect(over.manifest.files.map((x) => x.key)).toEqual(['b', 'c']);
    expect(over.replaced.map((x) => x.key)).toEqual(['a']);
    const all = nextManifest({ version: 1, files: [f('a'), f('b')] }, 'overwrite', {}, [f('c')]);
    expect(all.manifest.files.map((x) => x.key)).toEqual(['c']);
  });
});
