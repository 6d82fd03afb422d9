// Unit tests for search-result Bundles and their paging links.
import { describe, expect, it } from 'vitest';
import { searchBundle } from './bundle.ts';
import type { Bundle, Task } from './types.ts';

function task(id: string): Task {
  return { resourceType: 'Task', id, status: 'requested', intent: 'order' };
}

function links(bundle: Bundle): Record<string, string> {
  return Object.fromEntries((bundle.link ?? []).map((l) => [l.relation, l.url]));
}

const URL_BASE = 'https://sip.example.se/fhir/Task';

describe('searchBundle', () => {
  it('is a searchset whose self link is the request URL', () => {
    const bundle = searchBundle({
      resources: [task('a')],
      requestUrl: `${URL_BASE}?status=requested`,
      count: 10,
      offset: 0,
    });
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('searchset');
    expect(bundle.link?.[0]).toEqual({ relation: 'self', url: `${URL_BASE}?status=requested` });
  });

  it('has no next or previous link when one page holds every result', () => {
    const bundle = searchBundle({
      resources: [task('a'), task('b')],
      total: 2,
      requestUrl: URL_BASE,
      count: 10,
      offset: 0,
    });
    expect(Object.keys(links(bundle))).toEqual(['self']);
    expect(bundle.total).toBe(2);
  });

  it('links to the next page, keeping the query, when the total says there are more results', () => {
    const bundle = searchBundle({
      resources: [task('a'), task('b')],
      total: 5,
      requestUrl: `${URL_BASE}?status=requested`,
      count: 2,
      offset: 0,
    });
    expect(links(bundle).next).toBe(`${URL_BASE}?status=requested&_offset=2&_count=2`);
    expect(links(bundle).previous).toBeUndefined();
  });

  it('without a total, links to a next page only when the page is full', () => {
    const full = searchBundle({
      resources: [task('a'), task('b')],
      requestUrl: URL_BASE,
      count: 2,
      offset: 0,
    });
    expect(links(full).next).toBe(`${URL_BASE}?_offset=2&_count=2`);
    expect(full.total).toBeUndefined();
    const partial = searchBundle({ resources: [task('a')], requestUrl: URL_BASE, count: 2, offset: 0 });
    expect(links(partial).next).toBeUndefined();
  });

  it('links to the previous page when not on the first, and replaces the paging parameters', () => {
    const bundle = searchBundle({
      resources: [task('e')],
      total: 5,
      requestUrl: `${URL_BASE}?_count=2&_offset=4`,
      count: 2,
      offset: 4,
    });
    expect(links(bundle)).toEqual({
      self: `${URL_BASE}?_count=2&_offset=4`,
      previous: `${URL_BASE}?_count=2&_offset=2`,
    });
  });

  it('never links to a previous page before the first result', () => {
    const bundle = searchBundle({
      resources: [task('b')],
      total: 3,
      requestUrl: URL_BASE,
      count: 10,
      offset: 1,
    });
    expect(links(bundle).previous).toBe(`${URL_BASE}?_offset=0&_count=10`);
  });

  it('never links to a next page when the page size is zero', () => {
    const bundle = searchBundle({
      resources: [],
      total: 7,
      requestUrl: `${URL_BASE}?_count=0`,
      count: 0,
      offset: 0,
    });
    expect(links(bundle).next).toBeUndefined();
    expect(bundle.total).toBe(7);
    expect(bundle.entry).toEqual([]);
  });

  it('gives every entry a full URL and marks matches and includes', () => {
    const bundle = searchBundle({
      resources: [task('a'), task('b')],
      included: [{ resourceType: 'Patient', id: 'p1' }],
      requestUrl: `${URL_BASE}?_include=Task:patient`,
      count: 10,
      offset: 0,
    });
    expect(bundle.entry?.map((e) => [e.fullUrl, e.search?.mode, e.resource?.id])).toEqual([
      ['https://sip.example.se/fhir/Task/a', 'match', 'a'],
      ['https://sip.example.se/fhir/Task/b', 'match', 'b'],
      ['https://sip.example.se/fhir/Patient/p1', 'include', 'p1'],
    ]);
  });
});
