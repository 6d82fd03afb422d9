// Hono glue for FHIR: JSON responses with ETag/Location, body reading, and the one place errors become OperationOutcomes.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import {
  FhirError,
  InvalidRequest,
  internalErrorOutcome,
  UnknownRoute,
  UnsupportedMediaType,
} from './errors.ts';
import { etag } from './etag.ts';
import type { Bundle, OperationOutcome, Resource } from './types.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface ResponseOptions {
  status?: 200 | 201;
  /** Base URL (e.g. https://host/fhir) for the Location header on create. */
  location?: string;
}

/** Sends a resource as FHIR JSON with ETag, Last-Modified and (on create) Location. */
export function sendResource(c: Context, resource: Resource, options: ResponseOptions = {}): Response {
  const headers: Record<string, string> = { 'content-type': FHIR_JSON };
  const version = resource.meta?.versionId;
  if (version) headers.etag = etag(version);
  if (resource.meta?.lastUpdated)
    headers['last-modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  if (options.location && resource.id) {
    headers.location = `${options.location}/${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}`;
  }
  return c.body(JSON.stringify(resource), options.status ?? 200, headers);
}

export function sendBundle(c: Context, bundle: Bundle): Response {
  return c.body(JSON.stringify(bundle), 200, { 'content-type': FHIR_JSON });
}

export function sendOutcome(c: Context, outcome: OperationOutcome, status: number): Response {
  return c.body(JSON.stringify(outcome), status as 400, { 'content-type': FHIR_JSON });
}

/** The public base URL of the FHIR endpoint as the caller sees it (honours X-Forwarded-* from the ingress). */
export function fhirBase(c: Context): string {
  const url = new URL(c.req.url);
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() ?? url.protocol.replace(':', '');
  const host = c.req.header('x-forwarded-host')?.split(',')[0]?.trim() ?? url.host;
  return `${proto}://${host}/fhir`;
}

const MAX_BODY_BYTES = 1_000_000;

// FHIR R4 datatypes §2.1.28.0.1: strings SHALL NOT contain characters below U+0020 except tab, CR and LF
// (PostgreSQL also refuses U+0000 in text and jsonb, which would otherwise surface as a 500).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** Throws a 400 naming the first string (value or key) in `value` that holds a control character FHIR forbids. */
export function assertFhirStrings(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (FORBIDDEN_CONTROL.test(value)) {
      throw new InvalidRequest(
        'invalid-string',
        `${path} contains a control character; FHIR strings may hold only tab, CR and LF below U+0020`,
      );
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertFhirStrings(v, `${path}[${i}]`);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      assertFhirStrings(k, `${path} (a property name)`);
      assertFhirStrings(v, `${path}.${k}`);
    }
  }
}

/** Reads a FHIR JSON body of the expected resourceType; anything else is a clear 4xx. */
export async function readResource(c: Context, resourceType: string): Promise<Record<string, unknown>> {
  const contentType = c.req.header('content-type');
  if (!contentType || !/^application\/(fhir\+)?json\b/i.test(contentType))
    throw new UnsupportedMediaType(contentType);
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) {
    throw new InvalidRequest('body-too-large', `The body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new InvalidRequest('invalid-json', `The body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequest('invalid-resource', 'The body must be a JSON object (a FHIR resource)');
  }
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (rt !== resourceType) {
    throw new InvalidRequest(
      'invalid-resource',
      `Expected resourceType '${resourceType}' but got ${rt === undefined ? 'none' : `'${String(rt)}'`}`,
    );
  }
  assertFhirStrings(body, resourceType);
  return body as Record<string, unknown>;
}

/** Turns zod issues into one OperationOutcome issue each, with a FHIRPath-like expression. */
export function zodToInvalid(
  resourceType: string,
  error: z.ZodError,
  errorCode = 'invalid-resource',
): InvalidRequest {
  return new InvalidRequest(
    errorCode,
    error.issues.map((issue) => {
      const path = [resourceType, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
        .join('.')
        .replace(/\.\[/g, '[');
      return { diagnostics: `${path}: ${issue.message}`, expression: [path], code: 'invalid' as const };
    }),
  );
}

/** Parses with a zod schema, throwing a 400 OperationOutcome that lists every problem. */
export function parseWith<T extends z.ZodType>(resourceType: string, schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw zodToInvalid(resourceType, result.error);
  return result.data;
}

export interface ErrorLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Hono `onError`: the one place a thrown error becomes an OperationOutcome response. */
export function fhirErrorHandler(log: ErrorLog): ErrorHandler {
  return (err, c) => {
    if (err instanceof FhirError) {
      if (err.status >= 500) log.error({ err, code: err.errorCode }, 'request failed');
      return sendOutcome(c, err.toOperationOutcome(), err.status);
    }
    if (err instanceof z.ZodError)
      return sendOutcome(c, zodToInvalid('Resource', err).toOperationOutcome(), 400);
    if (err instanceof HTTPException && err.status < 500) {
      const e = new FhirError(err.status, 'processing', 'http-error', err.message || 'Request refused');
      return sendOutcome(c, e.toOperationOutcome(), err.status);
    }
    const traceId = c.get('traceId' as never) as string | undefined;
    log.error({ err, traceId }, 'unhandled error');
    return sendOutcome(c, internalErrorOutcome(traceId), 500);
  };
}

export const fhirNotFound: NotFoundHandler = (c) =>
  sendOutcome(c, new UnknownRoute(new URL(c.req.url).pathname).toOperationOutcome(), 404);
