import { describe, expect, it } from 'vitest';
import { addTag, addTags, removeTag, toggleTag } from './tags';
import { filtersFromSearch, filtersToSearch, matchesKnownFilters, toggleStatus } from './history-filters';

describe('tag chips', () => {
  it('adds trimmed tags once', () => {
    expect(addTag([], '  exp-1 ')).toEqual({ ok: true, tags: ['exp-1'] });
    expect(addTag(['a'], 'a')).toEqual({ ok: true, tags: ['a'] });
    expect(addTag(['a'], '   ')).toEqual({ ok: true, tags: ['a'] });
  });
  it('rejects what the API would reject, with its message', () => {
    const r = addTag([], '-bad');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/must start with a letter or digit/);
    expect(addTag([], 'x'.repeat(65)).ok).toBe(false);
  });
  it('adds several at once and stops at the first invalid one', () => {
    expect(addTags(['a'], 'b, c\nd')).toEqual({ ok: true, tags: ['a', 'b', 'c', 'd'] });
    const r = addTags([], 'ok, !no, later');
    expect(r.ok).toBe(false);
    expect(r.tags).toEqual(['ok']);
  });
  it('refuses a tag with spaces instead of splitting it', () => {
    const r = addTags(['a'], 'b, my run');
    expect(r).toMatchObject({ ok: false, tags: ['a', 'b'] });
    if (!r.ok) expect(r.error).toMatch(/cannot contain spaces; use - or _ instead \(e\.g\. my-run\)/);
  });
  it('removes and toggles', () => {
    expect(removeTag(['a', 'b'], 'a')).toEqual(['b']);
    expect(toggleTag(['a'], 'b')).toEqual(['a', 'b']);
    expect(toggleTag(['a', 'b'], 'a')).toEqual(['b']);
  });
});

describe('history filters in the URL', () => {
  it('round-trips', () => {
    const f = { status: ['failed', 'timeout'] as const, tags: ['exp:1', 'b'], q: 'numpy' };
    const s = filtersToSearch({ ...f, status: [...f.status] });
    expect(s).toBe('?status=failed,timeout&tags=exp%3A1,b&q=numpy');
    expect(filtersFromSearch(s)).toEqual({ status: ['failed', 'timeout'], tags: ['exp:1', 'b'], q: 'numpy' });
  });
  it('drops unknown statuses and duplicates; empty filters give an empty query', () => {
    expect(filtersFromSearch('?status=bogus,running,running&tags=a,,a')).toEqual({ status: ['running'], tags: ['a'], q: '' });
    expect(filtersToSearch({ status: [], tags: [], q: '  ' })).toBe('');
  });
  it('combines tags with AND when judging live changes', () => {
    const f = { status: [], tags: ['a', 'b'], q: '' };
    expect(matchesKnownFilters(f, { status: 'queued', tags: ['a', 'b', 'c'] })).toBe(true);
    expect(matchesKnownFilters(f, { status: 'queued', tags: ['a'] })).toBe(false);
    expect(matchesKnownFilters({ ...f, tags: [], status: ['failed'] }, { status: 'queued', tags: [] })).toBe(false);
  });
  it('toggles statuses', () => {
    expect(toggleStatus(['failed'], 'timeout')).toEqual(['failed', 'timeout']);
    expect(toggleStatus(['failed', 'timeout'], 'failed')).toEqual(['timeout']);
  });
});
