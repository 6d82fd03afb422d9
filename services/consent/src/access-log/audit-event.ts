// Renders a stored access-log entry as a FHIR AuditEvent (R4 auditevent.html), the person as pseudonym only.
import { type AuditEvent, HSA_SYSTEM, InvalidRequest, isHsaSystem, PATIENT_KEY_SYSTEM } from '@samsyn/fhir';
import type { AuditEventRow } from '../db/schema.ts';

export const AUDIT_EVENT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION_SYSTEM = 'http://hl7.org/fhir/restful-interaction';
export const ENTITY_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
export const OBJECT_ROLE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/object-role';
export const SOURCE_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/security-source-type';
/** Identifies a system client (no user) by its client id. */
export const CLIENT_ID_SYSTEM = 'https://samsyn.se/fhir/sid/client-id';

/**
 * @param shown the person's identifier, when the reviewer searched by it: the reviewer knows it already, so the
 *   entry may show it beside the pseudonym. It is never stored.
 */
export function toAuditEvent(row: AuditEventRow, shown?: { system: string; value: string }): AuditEvent {
  const userIsHsa = /^SE\d{10}-[A-Za-z0-9]+$/.test(row.userId);
  const entity: NonNullable<AuditEvent['entity']> = [];
  if (row.resource?.includes('/')) {
    entity.push({
      what: { reference: row.resource },
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '4', display: 'Domain Resource' },
    });
  } else if (row.resource || row.query) {
    entity.push({
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '24', display: 'Query' },
      ...(row.resource ? { description: `${row.resource} search` } : {}),
      ...(row.query ? { query: Buffer.from(row.query, 'utf8').toString('base64') } : {}),
    });
  }
  if (row.caseId && row.resource !== `Task/${row.caseId}`) {
    entity.push({
      what: { reference: `Task/${row.caseId}` },
      type: { system: ENTITY_TYPE_SYSTEM, code: '2', display: 'System Object' },
      description: 'SIP case',
    });
  }
  if (row.patientKey) {
    entity.push({
      what: { identifier: { system: PATIENT_KEY_SYSTEM, value: row.patientKey } },
      type: { system: ENTITY_TYPE_SYSTEM, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE_SYSTEM, code: '1', display: 'Patient' },
      ...(shown ? { detail: [{ type: shown.system, valueString: shown.value }] } : {}),
    });
  }
  return {
    resourceType: 'AuditEvent',
    id: row.id,
    meta: { versionId: '1', lastUpdated: row.storedAt.toISOString() },
    type: { system: AUDIT_EVENT_TYPE_SYSTEM, code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: RESTFUL_INTERACTION_SYSTEM, code: row.interaction }],
    action: row.action as AuditEvent['action'],
    recorded: row.recordedAt.toISOString(),
    outcome: row.outcome as AuditEvent['outcome'],
    ...(row.outcome !== '0' ? { outcomeDesc: 'The access was refused' } : {}),
    agent: [
      {
        who: {
          type: userIsHsa ? 'Practitioner' : 'Device',
          identifier: { system: userIsHsa ? HSA_SYSTEM : CLIENT_ID_SYSTEM, value: row.userId },
          ...(row.userName ? { display: row.userName } : {}),
        },
        ...(row.userName ? { name: row.userName } : {}),
        requestor: true,
      },
      {
        // The organisation unit the user acted for (Patientdatalagen: the log names the unit).
        who: { type: 'Organization', identifier: { system: HSA_SYSTEM, value: row.orgUnit } },
        requestor: false,
      },
    ],
    source: {
      observer: { display: `Samsyn ${row.service}` },
      type: [{ system: SOURCE_TYPE_SYSTEM, code: '4', display: 'Application Server' }],
    },
    ...(entity.length > 0 ? { entity } : {}),
  };
}

/** An agent search value names a user or a unit: `SE…`, `urn:oid:1.2.752.29.4.19|SE…` or a client id. */
export function agentValue(raw: string): string {
  const bar = raw.indexOf('|');
  if (bar < 0) return raw;
  const system = raw.slice(0, bar);
  if (system && !isHsaSystem(system) && system !== CLIENT_ID_SYSTEM) {
    throw new InvalidRequest(
      'invalid-search',
      `agent=${raw}: the system must be the HSA-id system (${HSA_SYSTEM}) or ${CLIENT_ID_SYSTEM}`,
    );
  }
  return raw.slice(bar + 1);
}
