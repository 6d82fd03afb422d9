// FHIR search-parameter parsing that rejects unknown parameters instead of silently ignoring them (SPEC §5).
import { InvalidRequest } from './errors.ts';

export type SearchParamKind = 'token' | 'reference' | 'date' | 'string' | 'number';

export interface SearchParamDef {
  kind: SearchParamKind;
  /** Modifiers accepted after a colon, e.g. `identifier` for `subject:identifier`. */
  modifiers?: readonly string[];
}

export interface TokenValue {
  system?: string;
  code: string;
}

export type DatePrefix = 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge' | 'sa' | 'eb' | 'ap';
export interface DateValue {
  prefix: DatePrefix;
  /** The lower and upper instant the given precision spans (2026-11 spans the whole month). */
  start: Date;
  end: Date;
}

export interface ParsedParam {
  name: string;
  modifier?: string;
  /** Comma-separated alternatives (OR); repeated parameters (AND) come as separate entries. */
  values: string[];
}

export interface ParsedSearch {
  params: ParsedParam[];
  count: number;
  offset: number;
  sort?: string;
  total?: 'none' | 'estimate' | 'accurate';
}

/** Result parameters every search accepts. */
const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_total', '_format', '_summary']);

export interface SearchOptions {
  maxCount?: number;
  defaultCount?: number;
  sortable?: readonly string[];
}

/** Parses a query string against the parameters a resource supports; throws a 400 naming any unknown one. */
export function parseSearch(
  query: URLSearchParams,
  defs: Readonly<Record<string, SearchParamDef>>,
  options: SearchOptions = {},
): ParsedSearch {
  const maxCount = options.maxCount ?? 1000;
  const params: ParsedParam[] = [];
  const problems: string[] = [];
  let count = options.defaultCount ?? 50;
  let offset = 0;
  let sort: string | undefined;
  let total: ParsedSearch['total'];
  for (const [key, raw] of query) {
    const [name = '', modifier] = key.split(':', 2);
    if (RESULT_PARAMS.has(name)) {
      if (name === '_count' || name === '_offset') {
        // Digits only: Number('') is 0, and an empty _count must not silently return an empty page.
        const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
        if (!Number.isInteger(n) || n < 0 || (name === '_count' && n > maxCount)) {
          problems.push(
            `${name} must be a whole number${name === '_count' ? ` from 0 to ${maxCount}` : ' of 0 or more'}`,
          );
        } else if (name === '_count') count = n;
        else offset = n;
      } else if (name === '_sort') {
        const field = raw.replace(/^-/, '');
        if (!options.sortable?.includes(field)) {
          problems.push(`_sort=${raw} is not supported; sortable: ${options.sortable?.join(', ') || 'none'}`);
        } else sort = raw;
      } else if (name === '_total') {
        if (raw !== 'none' && raw !== 'estimate' && raw !== 'accurate')
          problems.push('_total must be none, estimate or accurate');
        else total = raw;
      } else if (name === '_format' && !/json/.test(raw)) {
        problems.push('_format must be json (application/fhir+json); XML is not supported');
      }
      continue;
    }
    const def = defs[name];
    if (!def) {
      problems.push(`Unknown search parameter '${name}'; supported: ${Object.keys(defs).sort().join(', ')}`);
      continue;
    }
    if (modifier !== undefined && !def.modifiers?.includes(modifier)) {
      problems.push(`Modifier ':${modifier}' is not supported on '${name}'`);
      continue;
    }
    if (raw.trim() === '') {
      problems.push(`Search parameter '${name}' has an empty value`);
      continue;
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    if (/[\u0000-\u001f]/.test(raw)) {
      problems.push(`Search parameter '${name}' contains a control character`);
      continue;
    }
    params.push({ name, ...(modifier !== undefined ? { modifier } : {}), values: splitValues(raw) });
  }
  if (problems.length > 0) {
    throw new InvalidRequest(
      'invalid-search',
      problems.map((diagnostics) => ({ diagnostics })),
    );
  }
  return { params, count, offset, ...(sort ? { sort } : {}), ...(total ? { total } : {}) };
}

/** Splits on commas not escaped with a backslash (FHIR search §3.1.1.5). */
function splitValues(raw: string): string[] {
  return raw
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\,/g, ','))
    .filter((v) => v.length > 0);
}

/** Parses a token value `system|code`, `|code` or `code`. */
export function parseToken(value: string): TokenValue {
  const bar = value.indexOf('|');
  if (bar < 0) return { code: value };
  const system = value.slice(0, bar);
  return { ...(system ? { system } : {}), code: value.slice(bar + 1) };
}

const DATE_RE =
  /^(eq|ne|lt|gt|le|ge|sa|eb|ap)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Parses a date search value with its prefix into the span its precision covers. */
export function parseDateParam(name: string, value: string): DateValue {
  const m = DATE_RE.exec(value);
  if (!m) {
    throw new InvalidRequest(
      'invalid-search',
      `${name}=${value} is not a FHIR date search value (e.g. ge2026-01-01 or lt2026-11-22T10:00:00Z)`,
    );
  }
  const prefix = (m[1] ?? 'eq') as DatePrefix;
  const [y, mo, d, h, mi, s, fraction, tz] = [m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]];
  // Date.UTC and Date parsing roll 2026-13 or 2026-02-30 over into the next month; refuse them instead.
  const month = Number(mo ?? '01');
  const day = Number(d ?? '01');
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) {
    throw new InvalidRequest('invalid-search', `${name}=${value} is not a real date`);
  }
  let start: Date;
  let end: Date;
  if (h !== undefined) {
    // Fractional seconds (as meta.lastUpdated carries them) make the value precise to the millisecond.
    const ms = fraction ? fraction.slice(1, 4).padEnd(3, '0') : '000';
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}.${ms}${tz ?? 'Z'}`;
    start = new Date(iso);
    end = new Date(start.getTime() + (fraction ? 1 : s !== undefined ? 1000 : 60_000) - 1);
  } else if (d !== undefined) {
    start = new Date(`${y}-${mo}-${d}T00:00:00Z`);
    end = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d) + 1) - 1);
  } else if (mo !== undefined) {
    start = new Date(Date.UTC(Number(y), Number(mo) - 1, 1));
    end = new Date(Date.UTC(Number(y), Number(mo), 1) - 1);
  } else {
    start = new Date(Date.UTC(Number(y), 0, 1));
    end = new Date(Date.UTC(Number(y) + 1, 0, 1) - 1);
  }
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
    throw new InvalidRequest('invalid-search', `${name}=${value} is not a real date`);
  }
  return { prefix, start, end };
}
