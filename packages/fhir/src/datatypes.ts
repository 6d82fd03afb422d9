// zod schemas for the FHIR R4 datatypes Samsyn accepts as input, with FHIR's own primitive rules.
import { z } from 'zod';

/** FHIR `id`: [A-Za-z0-9\-\.]{1,64}. */
export const fhirId = z
  .string()
  .regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id ([A-Za-z0-9-.], 1-64 chars)');
/**
 * Whether the calendar parts of a FHIR date, dateTime or instant exist (month 01-12, a day the month has) and a
 * time, when given, parses. JavaScript's own parser skips the date check for YYYY-MM-DD and rolls 2026-02-30 over
 * into March.
 */
export function isRealDateTime(value: string): boolean {
  const parts = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!parts) return false;
  const year = Number(parts[1]);
  const month = parts[2] === undefined ? 1 : Number(parts[2]);
  const day = parts[3] === undefined ? 1 : Number(parts[3]);
  if (month < 1 || month > 12) return false;
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0);
  if (day < 1 || day > lastDay.getUTCDate()) return false;
  return value.length <= 10 || !Number.isNaN(Date.parse(value));
}

/** FHIR `dateTime` with a time zone when a time is given (R4 §2.24.0.1). */
export const fhirDateTime = z
  .string()
  .regex(
    /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/,
    'must be a FHIR dateTime such as 2026-11-22T10:00:00+01:00',
  )
  .refine(isRealDateTime, 'is not a real date and time');
export const fhirInstant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/,
    'must be a FHIR instant such as 2026-11-22T10:00:00Z',
  )
  .refine(isRealDateTime, 'is not a real instant');
export const fhirDate = z
  .string()
  .regex(/^\d{4}(-\d{2}(-\d{2})?)?$/, 'must be a FHIR date such as 2026-11-22')
  .refine(isRealDateTime, 'is not a real date');
const nonEmpty = z.string().trim().min(1, 'must not be empty');

export const extension: z.ZodType<unknown> = z.looseObject({ url: nonEmpty });
export const coding = z.looseObject({
  system: nonEmpty.optional(),
  version: z.string().optional(),
  code: nonEmpty.optional(),
  display: z.string().optional(),
});
export const codeableConcept = z.looseObject({
  coding: z.array(coding).optional(),
  text: z.string().optional(),
});
export const identifier = z.looseObject({
  use: z.enum(['usual', 'official', 'temp', 'secondary', 'old']).optional(),
  system: nonEmpty.optional(),
  value: nonEmpty.optional(),
});
export const reference = z.looseObject({
  reference: nonEmpty.optional(),
  type: z.string().optional(),
  identifier: identifier.optional(),
  display: z.string().optional(),
});
export const period = z
  .looseObject({ start: fhirDateTime.optional(), end: fhirDateTime.optional() })
  .refine(
    (p) => !p.start || !p.end || Date.parse(p.start) <= Date.parse(p.end),
    'period.start must not be after period.end',
  );
export const humanName = z.looseObject({
  use: z.string().optional(),
  text: z.string().optional(),
  family: z.string().optional(),
  given: z.array(z.string()).optional(),
});
export const meta = z.looseObject({
  versionId: z.string().optional(),
  lastUpdated: z.string().optional(),
  security: z.array(coding).optional(),
  profile: z.array(z.string()).optional(),
  tag: z.array(coding).optional(),
});
export const contactPoint = z.looseObject({
  system: z.enum(['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other']).optional(),
  value: z.string().optional(),
  use: z.string().optional(),
});
export const address = z.looseObject({
  text: z.string().optional(),
  line: z.array(z.string()).optional(),
  city: z.string().optional(),
  postalCode: z.string().optional(),
  country: z.string().optional(),
});

/** The codings of a CodeableConcept that belong to `system`. */
export function codesIn(
  concept: { coding?: { system?: string; code?: string }[] } | undefined,
  system: string,
) {
  return (concept?.coding ?? []).filter((c) => c.system === system && c.code).map((c) => c.code as string);
}
