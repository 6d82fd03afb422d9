// Use case: a unit (its shared mailbox) or one staff member chooses how notifications reach them by e-mail.
import type { Db } from '@samsyn/db';
import { InvalidRequest, type Parameters } from '@samsyn/fhir';
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { type EmailPreferenceRow, emailPreferences } from '../db/schema.ts';

export const EMAIL_MODES = ['immediate', 'digest', 'off'] as const;

export const preferenceInput = z.object({
  address: z.email('must be an e-mail address').max(320),
  mode: z.enum(EMAIL_MODES),
  digestMinutes: z
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(60),
  /** unit: the unit's mailbox gets every notification to the unit; user: the signed-in staff member's own. */
  for: z.enum(['unit', 'user']).default('unit'),
});
export type PreferenceInput = z.infer<typeof preferenceInput>;

/** Reads the operation's Parameters into the preference; every problem is a 400 naming the parameter. */
export function fromParameters(body: Record<string, unknown>): PreferenceInput {
  if (body.resourceType !== 'Parameters') {
    throw new InvalidRequest('invalid-resource', '$email-preference takes a Parameters resource');
  }
  const params = (Array.isArray(body.parameter) ? body.parameter : []) as {
    name?: string;
    valueString?: string;
    valueCode?: string;
    valueInteger?: number;
  }[];
  const get = (name: string) => params.find((p) => p?.name === name);
  const raw = {
    address: get('address')?.valueString,
    mode: get('mode')?.valueCode ?? get('mode')?.valueString,
    digestMinutes: get('digestMinutes')?.valueInteger,
    for: get('for')?.valueCode ?? get('for')?.valueString,
  };
  const parsed = preferenceInput.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    throw new InvalidRequest(
      'invalid-parameters',
      parsed.error.issues.map((i) => ({
        diagnostics: `Parameters.parameter[${String(i.path[0] ?? '')}]: ${i.message}`,
        expression: [`Parameters.parameter.where(name='${String(i.path[0] ?? '')}')`],
      })),
    );
  }
  return parsed.data;
}

export async function savePreference(
  db: Db,
  org: string,
  user: string,
  input: PreferenceInput,
): Promise<EmailPreferenceRow> {
  const userId = input.for === 'user' ? user : '';
  const values = {
    org,
    userId,
    address: input.address,
    mode: input.mode,
    digestMinutes: input.digestMinutes,
  };
  const [row] = await db
    .insert(emailPreferences)
    .values(values)
    .onConflictDoUpdate({
      target: [emailPreferences.org, emailPreferences.userId],
      set: {
        address: values.address,
        mode: values.mode,
        digestMinutes: values.digestMinutes,
        updatedAt: new Date(),
      },
    })
    .returning();
  if (!row) throw new Error('preference upsert returned nothing');
  return row;
}

export async function readPreferences(db: Db, org: string, user: string): Promise<EmailPreferenceRow[]> {
  const rows = await db.select().from(emailPreferences).where(eq(emailPreferences.org, org));
  return rows.filter((r) => r.userId === '' || r.userId === user);
}

export async function deletePreference(db: Db, org: string, userId: string): Promise<void> {
  await db
    .delete(emailPreferences)
    .where(and(eq(emailPreferences.org, org), eq(emailPreferences.userId, userId)));
}

export function toParameters(rows: EmailPreferenceRow[]): Parameters {
  return {
    resourceType: 'Parameters',
    parameter: rows.map((r) => ({
      name: 'preference',
      part: [
        { name: 'for', valueCode: r.userId === '' ? 'unit' : 'user' },
        { name: 'address', valueString: r.address },
        { name: 'mode', valueCode: r.mode },
        { name: 'digestMinutes', valueInteger: r.digestMinutes },
      ],
    })),
  };
}
