// FHIR date search (R4 search.html#prefix) against a timestamp column: the value's precision spans a range.
import { InvalidRequest, parseDateParam } from '@samsyn/fhir';
import { and, gt, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/** The condition one date value puts on `column`; ne is "outside the span", sa/eb/ap are not offered. */
export function dateCondition(column: AnyPgColumn, name: string, raw: string): SQL {
  const { prefix, start, end } = parseDateParam(name, raw);
  switch (prefix) {
    case 'eq':
      return and(gte(column, start), lte(column, end)) as SQL;
    case 'ne':
      return or(lt(column, start), gt(column, end)) as SQL;
    case 'lt':
      return lt(column, start);
    case 'le':
      return lte(column, end);
    case 'gt':
      return gt(column, end);
    case 'ge':
      return gte(column, start);
    case 'sa':
    case 'eb':
    case 'ap':
      throw new InvalidRequest(
        'invalid-search',
        `${name}=${raw}: the prefix '${prefix}' is not supported here; use eq, ne, lt, le, gt or ge`,
      );
  }
}
