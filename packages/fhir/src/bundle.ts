// Search-result Bundles with self/next/previous links (FHIR R4 search §3.1.1.3 paging).
import type { Bundle, Resource } from './types.ts';

export interface SearchPage<T extends Resource> {
  resources: T[];
  total?: number;
  /** The full request URL, used for the self link and to derive paging links. */
  requestUrl: string;
  count: number;
  offset: number;
  /** Included resources (e.g. _include), returned with search.mode=include. */
  included?: Resource[];
}

export function searchBundle<T extends Resource>(page: SearchPage<T>): Bundle {
  const self = new URL(page.requestUrl);
  const link: NonNullable<Bundle['link']> = [{ relation: 'self', url: self.toString() }];
  const withOffset = (offset: number) => {
    const u = new URL(self);
    u.searchParams.set('_offset', String(offset));
    u.searchParams.set('_count', String(page.count));
    return u.toString();
  };
  const hasMore =
    page.total !== undefined
      ? page.offset + page.resources.length < page.total
      : page.resources.length === page.count;
  if (hasMore && page.count > 0) link.push({ relation: 'next', url: withOffset(page.offset + page.count) });
  if (page.offset > 0)
    link.push({ relation: 'previous', url: withOffset(Math.max(0, page.offset - page.count)) });
  const base = `${self.origin}${self.pathname.replace(/\/[A-Za-z]+\/?$/, '')}`;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link,
    entry: [
      ...page.resources.map((resource) => ({
        fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
        resource: resource as never,
        search: { mode: 'match' as const },
      })),
      ...(page.included ?? []).map((resource) => ({
        fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
        resource: resource as never,
        search: { mode: 'include' as const },
      })),
    ],
  };
}
