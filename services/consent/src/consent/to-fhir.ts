// Renders a stored Consent (any version) as the FHIR resource: what was sent, with the id, meta and status Samsyn owns.
import type { Consent } from '@samsyn/fhir';
import type { ConsentRow, ConsentVersionRow } from '../db/schema.ts';

export function toConsent(
  row: Pick<ConsentRow, 'id' | 'versionId' | 'lastUpdated' | 'status' | 'resource'>,
): Consent {
  return {
    resourceType: 'Consent',
    id: row.id,
    meta: { versionId: String(row.versionId), lastUpdated: row.lastUpdated.toISOString() },
    ...(row.resource as Omit<Consent, 'resourceType' | 'id' | 'meta' | 'status'>),
    status: row.status as Consent['status'],
  };
}

export function versionToConsent(row: ConsentVersionRow): Consent {
  return toConsent({ id: row.consentId, ...row });
}
