// Renders a deviation (avvikelse) as a FHIR Flag about the organisation it is addressed to.
import { type Flag, HSA_SYSTEM } from '@samsyn/fhir';
import {
  DEVIATION_CASE_EXTENSION,
  DEVIATION_DISPLAY,
  DEVIATION_MEETING_EXTENSION,
  DEVIATION_SYSTEM,
} from '../appointment/codes.ts';
import type { DeviationRow } from '../db/schema.ts';
import type { DeviationCause } from './report.ts';

const FLAG_CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/flag-category';

export function deviationFlag(row: DeviationRow): Flag {
  const cause = row.cause as DeviationCause;
  const at = row.createdAt.toISOString();
  return {
    resourceType: 'Flag',
    id: row.id,
    // A deviation is reported once and never edited.
    meta: { versionId: '1', lastUpdated: at },
    extension: [
      { url: DEVIATION_CASE_EXTENSION, valueReference: { reference: `Task/${row.caseId}` } },
      ...(row.appointmentId
        ? [
            {
              url: DEVIATION_MEETING_EXTENSION,
              valueReference: { reference: `Appointment/${row.appointmentId}` },
            },
          ]
        : []),
    ],
    status: 'active',
    category: [{ coding: [{ system: FLAG_CATEGORY_SYSTEM, code: 'admin', display: 'Administrative' }] }],
    code: {
      coding: [{ system: DEVIATION_SYSTEM, code: cause, display: DEVIATION_DISPLAY[cause] }],
      text: DEVIATION_DISPLAY[cause],
    },
    subject: { type: 'Organization', identifier: { system: HSA_SYSTEM, value: row.org } },
    period: { start: at },
    author: { display: 'Samsyn' },
  };
}
