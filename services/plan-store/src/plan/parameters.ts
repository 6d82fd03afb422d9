// Reading the FHIR Parameters body of a plan operation ($approve-revision, $follow-up, $close, …) into a checked
// command; every problem is one issue of a 400.
import { InvalidRequest, zodToInvalid } from '@samsyn/fhir';
import type { z } from 'zod';

export interface ParametersParameter {
  name: string;
  [value: string]: unknown;
}
export interface Parameters {
  resourceType: 'Parameters';
  parameter?: ParametersParameter[];
}

/** The value[x] of the given FHIR type (valueCode, valueCoding.code for a code, valueDate …). */
export function parameterValue(
  p: ParametersParameter,
  type: 'code' | 'string' | 'date' | 'dateTime',
): unknown {
  if (type === 'code') return p.valueCode ?? (p.valueCoding as { code?: string } | undefined)?.code;
  const key = `value${type[0]?.toUpperCase()}${type.slice(1)}`;
  return p[key];
}

export function readParameters<S extends z.ZodType>(
  body: unknown,
  schema: S,
  readers: Record<string, (p: ParametersParameter) => unknown>,
): z.infer<S> {
  if (body === undefined || body === null) return parseOrThrow(schema, {});
  const b = body as Partial<Parameters>;
  if (b.resourceType !== 'Parameters') {
    throw new InvalidRequest(
      'invalid-resource',
      `The body must be a FHIR Parameters resource (got ${String(b.resourceType)})`,
    );
  }
  const input: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const p of b.parameter ?? []) {
    const read = readers[p.name];
    if (!read) unknown.push(p.name);
    else input[p.name] = read(p);
  }
  if (unknown.length > 0) {
    throw new InvalidRequest(
      'invalid-parameter',
      `Unknown parameter(s) ${unknown.join(', ')}; this operation takes ${Object.keys(readers).join(', ')}`,
    );
  }
  return parseOrThrow(schema, input);
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw zodToInvalid('Parameters', result.error, 'invalid-parameter');
  return result.data;
}
