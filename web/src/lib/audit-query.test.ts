import { describe, expect, it } from 'vitest';
import { auditApiQuery, filtersFrom, filtersToQuery } from './audit-query';

describe('audit filters', () => {
  it('round-trips through the page URL, dropping empty filters', () => {
    const f = filtersFrom(new URLSearchParams('user=bob&action=object.put&outcome='));
    expect(f).toMatchObject({ user: 'bob', action: 'object.put', outcome: '', connection: '' });
    expect(filtersToQuery(f).toString()).toBe('user=bob&action=object.put');
  });

  it('sends local times as ISO instants and adds paging', () => {
    const f = filtersFrom(new URLSearchParams('since=2024-05-01T10:00&until=not-a-time&connection=s3-sales'));
    const q = new URLSearchParams(auditApiQuery(f, { before: 42, limit: 50, format: undefined }));
    expect(q.get('since')).toBe(new Date('2024-05-01T10:00').toISOString());
    expect(q.has('until')).toBe(false);
    expect(q.get('connection')).toBe('s3-sales');
    expect(q.get('before')).toBe('42');
    expect(q.has('format')).toBe(false);
  });
});
