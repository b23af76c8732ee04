/** The audit page's filters, as typed ('' = no filter); `since`/`until` in the `datetime-local` form, local time. */
export interface AuditFilters {
  user: string;
  connection: string;
  action: string;
  outcome: string;
  sessionName: string;
  keyPrefix: string;
  since: string;
  until: string;
}

export const AUDIT_FILTER_KEYS = [
  'user',
  'connection',
  'action',
  'outcome',
  'sessionName',
  'keyPrefix',
  'since',
  'until',
] as const satisfies ReadonlyArray<keyof AuditFilters>;

/** The filters of the page URL (`/audit?user=bob&action=object.put`), so a search can be reloaded and shared. */
export function filtersFrom(query: URLSearchParams): AuditFilters {
  const f = {} as AuditFilters;
  for (const k of AUDIT_FILTER_KEYS) f[k] = query.get(k)?.trim() ?? '';
  return f;
}

/** The non-empty filters, for the page URL. */
export function filtersToQuery(f: AuditFilters): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of AUDIT_FILTER_KEYS) if (f[k].trim() !== '') q.set(k, f[k].trim());
  return q;
}

/** A local `datetime-local` value as an ISO instant; undefined when it is not a time. */
export function isoOf(local: string): string | undefined {
  if (local === '') return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The query of GET /api/audit (or /api/audit/export with `only` the time range). */
export function auditApiQuery(f: AuditFilters, extra: Record<string, string | number | undefined> = {}): string {
  const q = filtersToQuery(f);
  for (const k of ['since', 'until'] as const) {
    const iso = isoOf(f[k]);
    if (iso === undefined) q.delete(k);
    else q.set(k, iso);
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}
