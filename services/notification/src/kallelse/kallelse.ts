// Use case: a unit that takes part in the case gets the kallelse for a meeting, in the person's preferred language
// or one it chooses. Protected identity: the letter is handed to the unit, Samsyn never sends it to an address.
import type { Db } from '@samsyn/db';
import { type Binary, InvalidRequest, NotFound } from '@samsyn/fhir';
import { and, eq } from 'drizzle-orm';
import { caseParties, meetings } from '../db/schema.ts';
import { kallelseHtml, LETTERS, letterLanguage } from './letter.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Kallelse {
  html: string;
  language: string;
  personProtected: boolean;
}

export async function kallelseFor(
  db: Db,
  appointmentId: string,
  requestedLanguage: string | undefined,
  viewerOrg: string,
): Promise<Kallelse> {
  if (!UUID_RE.test(appointmentId)) throw new NotFound('Appointment', appointmentId);
  if (requestedLanguage && !LETTERS[letterLanguage(requestedLanguage)]) {
    throw new InvalidRequest('invalid-parameters', `No kallelse in '${requestedLanguage}'`);
  }
  if (requestedLanguage && letterLanguage(requestedLanguage) === 'sv' && !/^sv\b/i.test(requestedLanguage)) {
    throw new InvalidRequest(
      'invalid-parameters',
      `No kallelse in '${requestedLanguage}'; available: ${Object.keys(LETTERS).join(', ')}`,
    );
  }
  const [meeting] = await db
    .select()
    .from(meetings)
    .where(eq(meetings.appointmentId, appointmentId))
    .limit(1);
  if (!meeting) throw new NotFound('Appointment', appointmentId);
  const parties = await db
    .select()
    .from(caseParties)
    .where(and(eq(caseParties.caseId, meeting.caseId)));
  // Only a unit in the case may see that the meeting exists (SPEC §7).
  if (!parties.some((p) => p.org === viewerOrg)) throw new NotFound('Appointment', appointmentId);
  const requester = parties.find((p) => p.role === 'requester')?.org ?? viewerOrg;
  const language = letterLanguage(requestedLanguage || meeting.language);
  const html = await kallelseHtml({
    meeting,
    language,
    contactOrg: meeting.orgNames?.[requester] ?? requester,
    ...(meeting.personProtected
      ? {
          staffNote:
            'Personen har skyddad identitet. Samsyn skickar inte kallelsen; er enhet lämnar den till personen. Skriv aldrig personens adress på något som lämnar enheten.',
        }
      : {}),
  });
  return { html: html.toString(), language, personProtected: meeting.personProtected };
}

export function toBinary(k: Kallelse, appointmentId: string): Binary {
  return {
    resourceType: 'Binary',
    id: `kallelse-${appointmentId}-${k.language}`.slice(0, 64),
    contentType: 'text/html; charset=utf-8',
    data: Buffer.from(k.html, 'utf8').toString('base64'),
  };
}
