/** Breadcrumbs of a folder prefix: `a/b/` → root, `a/`, `a/b/`. */
export function breadcrumbs(prefix: string): Array<{ label: string; prefix: string }> {
  const crumbs = [];
  let at = '';
  for (const part of prefix.split('/').filter((p) => p !== '')) {
    at += `${part}/`;
    crumbs.push({ label: part, prefix: at });
  }
  return crumbs;
}

/** The last segment of a key or folder (`a/b/c.csv` → `c.csv`, `a/b/` → `b/`). */
export function baseName(key: string): string {
  const trimmed = key.endsWith('/') ? key.slice(0, -1) : key;
  const name = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return key.endsWith('/') ? `${name}/` : name;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
