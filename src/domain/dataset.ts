/**
 * Managed datasets as plain data: names, locations, partitions, manifests and the S3 key layout of a write.
 * Pure: no I/O. Locations and keys are relative to the owning connection's path; the data service resolves
 * them against the connection's scope (and refuses anything that would leave it).
 */
import { invalidInput, RolegateError } from '../errors/errors.js';
import type { Column } from './dataset-schema.js';
import { normalizePathInBucket } from './scope.js';

export type DatasetFormat = 'csv' | 'parquet' | 'jsonl';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['csv', 'parquet', 'jsonl'];

/** One file of a dataset version. `key` is relative to the dataset's location. */
export interface ManifestFile {
  readonly key: string;
  readonly size: number;
  /** Data rows (CSV without its header, JSON lines) or Parquet's row count. */
  readonly rows: number;
  /** Partition values in the order of the dataset's partition columns; empty when unpartitioned. */
  readonly partition: Readonly<Record<string, string>>;
  /** CSV only: the header's length in bytes, so that readers can skip it when concatenating files. */
  readonly headerBytes?: number | undefined;
  /** Text formats: whether the file ends with a line break (else readers add one between files). */
  readonly endsWithNewline?: boolean | undefined;
}

/**
 * The files of the current version. Readers only ever see a manifest, and a manifest only ever lists files
 * that were completely written and checked before it was switched.
 */
export interface Manifest {
  readonly version: number;
  readonly files: readonly ManifestFile[];
}

export const EMPTY_MANIFEST: Manifest = Object.freeze({ version: 0, files: [] });

export type CatalogKind = 'internal' | 'glue';

export interface Dataset {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly connection: string;
  /** Relative to the connection's path; canonical, ends in '/'. */
  readonly location: string;
  readonly format: DatasetFormat;
  /** Data columns (partition columns excluded). Empty until given or inferred from the first write. */
  readonly columns: readonly Column[];
  readonly partitionColumns: readonly string[];
  readonly description: string;
  /** Username of the creator. */
  readonly owner: string;
  readonly catalog: CatalogKind;
  /** The Glue database holding the dataset's table, for `catalog: 'glue'`. */
  readonly glueDatabase?: string | undefined;
  readonly manifest: Manifest;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Hive and Glue fold names to lower case; keeping names lower-case snake case avoids two spellings of one table. */
const NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Names of files inside a write: no folders, and no leading `_` or `.`, which Hive, Spark and Athena skip. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,199}$/;
/** Partition values end up in keys and Glue partition values: keep them plain. */
const PARTITION_VALUE = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;

/** The folder, under a dataset's location, where writes stage their files (hidden from Hive, Spark and Athena). */
export const STAGING_FOLDER = '_rolegate_staging/';

/**
 * Checks a project or dataset name (also a Glue table-name part).
 * @throws RolegateError `dataset.name_invalid`.
 */
export function checkDatasetName(what: 'project' | 'dataset' | 'column', name: string): string {
  if (!NAME.test(name)) {
    throw invalidInput(
      'dataset.name_invalid',
      `Invalid ${what} name ${JSON.stringify(name)}: use 1-64 lower-case letters, digits and "_", starting with a letter`,
    );
  }
  return name;
}

/**
 * The dataset's location relative to its connection's path: `<project>/<dataset>/` by default, or a given
 * folder (canonicalised; `..`, `//`, wildcards and policy variables refused).
 * @throws RolegateError `dataset.location_invalid`.
 */
export function datasetLocation(project: string, name: string, requested?: string | undefined): string {
  if (requested === undefined) return `${project}/${name}/`;
  if (requested.startsWith('/')) {
    throw invalidInput('dataset.location_invalid', 'Invalid location: it is relative to the connection path');
  }
  if (/[*?]/.test(requested) || requested.includes('${')) {
    throw invalidInput('dataset.location_invalid', 'Invalid location: "*", "?" and "${" are not allowed');
  }
  let location: string;
  try {
    location = normalizePathInBucket(requested);
  } catch (e) {
    if (e instanceof RolegateError) {
      throw invalidInput('dataset.location_invalid', e.message.replace('Invalid path in bucket', 'Invalid location'));
    }
    throw e;
  }
  if (location === '') {
    throw invalidInput('dataset.location_invalid', 'Invalid location: a dataset needs a folder of its own');
  }
  if (location.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'))) {
    throw invalidInput(
      'dataset.location_invalid',
      'Invalid location: folders starting with "_" or "." are hidden from Hive, Spark and Athena',
    );
  }
  return location;
}

/** Whether two locations overlap (one contains the other): their writes would see each other's files. */
export function locationsOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** @throws RolegateError `dataset.file_name_invalid`. */
export function checkFileName(name: string): string {
  if (!FILE_NAME.test(name) || name.includes('..')) {
    throw invalidInput(
      'dataset.file_name_invalid',
      `Invalid file name ${JSON.stringify(name)}: use letters, digits, ".", "_", "=" and "-", no folders, ` +
        'not starting with "_" or "."',
    );
  }
  return name;
}

/**
 * Checks partition values against the dataset's partition columns: a partitioned dataset is written one
 * whole partition at a time, an unpartitioned one never takes partition values.
 * @throws RolegateError `dataset.partition_invalid`.
 */
export function checkPartition(
  partitionColumns: readonly string[],
  values: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  const given = values ?? {};
  const names = Object.keys(given);
  const expected = [...partitionColumns];
  if (names.length !== expected.length || !expected.every((c) => Object.hasOwn(given, c))) {
    const want = expected.length === 0 ? 'no partition values' : `values for exactly ${expected.join(', ')}`;
    throw invalidInput(
      'dataset.partition_invalid',
      `Invalid partition: the dataset takes ${want}, got ${names.length === 0 ? 'none' : names.join(', ')}`,
    );
  }
  const out: Record<string, string> = {};
  for (const column of expected) {
    const value = given[column] as string;
    if (!PARTITION_VALUE.test(value)) {
      throw invalidInput(
        'dataset.partition_invalid',
        `Invalid partition value for ${column}: use letters, digits, ".", "_", ":", "+" and "-" (at most 128)`,
      );
    }
    out[column] = value;
  }
  return out;
}

/** `a=1/b=2/` (Hive style), '' when unpartitioned. Values are already checked by {@link checkPartition}. */
export function partitionPath(partitionColumns: readonly string[], values: Readonly<Record<string, string>>): string {
  return partitionColumns.map((c) => `${c}=${values[c]}/`).join('');
}

/** Parses `a=1/b=2` (the query-string form of a partition) into values. */
export function parsePartitionSpec(spec: string | undefined): Record<string, string> | undefined {
  if (spec === undefined || spec === '') return undefined;
  const out: Record<string, string> = {};
  for (const part of spec.replace(/\/$/, '').split('/')) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw invalidInput('dataset.partition_invalid', `Invalid partition ${JSON.stringify(spec)}: use a=1/b=2`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Where a write stages its files, relative to the dataset's location. */
export function stagingPrefix(writeId: string): string {
  return `${STAGING_FOLDER}${writeId}/`;
}

/** The final key of a staged file, relative to the location: unique per write, so versions never collide. */
export function committedKey(partition: string, writeId: string, fileName: string): string {
  return `${partition}${writeId}-${fileName}`;
}

export type WriteMode = 'overwrite' | 'append';

/**
 * The manifest after a write: `overwrite` replaces the files of the written partition (all files when
 * unpartitioned), `append` adds to them. Returns the files no longer referenced, to delete after the switch.
 */
export function nextManifest(
  current: Manifest,
  mode: WriteMode,
  partition: Readonly<Record<string, string>>,
  added: readonly ManifestFile[],
): { manifest: Manifest; replaced: ManifestFile[] } {
  const samePartition = (f: ManifestFile) =>
    Object.entries(partition).every(([k, v]) => f.partition[k] === v) &&
    Object.keys(f.partition).length === Object.keys(partition).length;
  const replaced = mode === 'overwrite' ? current.files.filter(samePartition) : [];
  const kept = mode === 'overwrite' ? current.files.filter((f) => !samePartition(f)) : current.files;
  return { manifest: { version: current.version + 1, files: [...kept, ...added] }, replaced };
}
