import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's secret registry folder (`secret-scan-setup.ts`): secrets and captured text, scanned at the end. */
    secretRunDir: string;
  }
}

/**
 * A tiny cross-worker registry for the whole-suite secret scan. Test files (through the harness) append every
 * secret they issued or stored to `<run>/secrets/*.txt` (one per line) and every captured text — log lines, audit
 * records, error bodies, output of child processes — to `<run>/text/*`. `secret-scan-setup.ts` scans every text
 * for every secret once the whole integ project has run. Nothing here ever prints a secret.
 */
const file = `${process.pid}-${randomUUID().slice(0, 8)}`;

function runDir(): string | undefined {
  try {
    const dir = inject('secretRunDir');
    return typeof dir === 'string' && dir !== '' ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** True when this run scans for secrets (the `integ` project), so that collecting text is worth its time. */
export function secretScanActive(): boolean {
  return runDir() !== undefined;
}

/** Registers secrets issued or stored during the run (shorter than 8 characters are ignored by the scan). */
export function registerSecrets(secrets: Iterable<string>): void {
  const dir = runDir();
  if (dir === undefined) return;
  const lines = [...secrets].filter((s) => s.length >= 8 && !s.includes('\n'));
  if (lines.length > 0) appendFileSync(join(dir, 'secrets', `${file}.txt`), `${lines.join('\n')}\n`);
}

/** Registers text that must hold no secret; `label` says what it is (`logs`, `audit`, `error-bodies`, …). */
export function registerText(label: string, text: string): void {
  const dir = runDir();
  if (dir === undefined || text === '') return;
  const safe = label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  writeFileSync(join(dir, 'text', `${safe}--${file}-${randomUUID().slice(0, 8)}.txt`), text);
}

/**
 * Registers every file below `dir` (a data directory: SQLite files, audit files) as text, read as Latin-1, but
 * those named in `except` (a vault key file holds its secret by design).
 */
export async function registerFilesUnder(label: string, dir: string, except: readonly string[] = []): Promise<void> {
  if (runDir() === undefined) return;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (e.isFile() && !except.includes(e.name)) {
      registerText(label, (await readFile(join(e.parentPath, e.name))).toString('latin1'));
    }
  }
}

export function prepareRunDir(dir: string): void {
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  mkdirSync(join(dir, 'text'), { recursive: true });
}

export interface ScanReport {
  readonly secrets: number;
  readonly texts: number;
  readonly bytes: number;
  /** `<text file>:<line> contains secret #n`: positions only, never the secret. */
  readonly hits: string[];
}

/** Scans every registered text for every registered secret. */
export function scanRunDir(dir: string): ScanReport {
  if (!existsSync(join(dir, 'secrets'))) return { secrets: 0, texts: 0, bytes: 0, hits: [] };
  const secrets = [
    ...new Set(
      readdirSync(join(dir, 'secrets')).flatMap((f) =>
        readFileSync(join(dir, 'secrets', f), 'utf8')
          .split('\n')
          .filter((s) => s.length >= 8),
      ),
    ),
  ];
  const hits: string[] = [];
  let bytes = 0;
  const texts = readdirSync(join(dir, 'text'));
  for (const name of texts) {
    const text = readFileSync(join(dir, 'text', name), 'utf8');
    bytes += text.length;
    secrets.forEach((secret, n) => {
      let at = text.indexOf(secret);
      while (at !== -1 && hits.length < 100) {
        const line = text.slice(0, at).split('\n').length;
        hits.push(`${name}:${line} contains secret #${n}`);
        at = text.indexOf(secret, at + 1);
      }
    });
  }
  return { secrets: secrets.length, texts: texts.length, bytes, hits };
}
