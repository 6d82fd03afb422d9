// The access log as FHIR AuditEvent: valid R4, the person as pseudonym, the principal from the HSA-id.
import { assertValidFhir, ORGS } from '@samsyn/testkit';
import { describe, expect, it } from 'vitest';
import type { AuditEventRow } from '../db/schema.ts';
import { agentValue, toAuditEvent } from './audit-event.ts';
import { principalOf, redactPersonNumbers } from './record-audit.ts';

const row: AuditEventRow = {
  id: '0b6f8f3e-6f0e-4a51-9d59-1f4a2b3c4d5e',
  recordedAt: new Date('2026-11-20T08:00:00Z'),
  action: 'R',
  interaction: 'read',
  outcome: '0',
  userId: 'SE2321000032-U123',
  userName: 'Sara Sjuksköterska',
  orgUnit: ORGS.regionWard,
  orgNumber: '2321000032',
  patientKey: 'abcdefghijklmnopqrstuvwxyz012345',
  caseId: '5c0e1a52-8f51-4d7b-b7a4-4d1d8b1a2c3d',
  resource: 'Consent/7d1b7d8e-2a3b-4c5d-8e9f-0a1b2c3d4e5f',
  query: null,
  service: 'consent',
  storedAt: new Date('2026-11-20T08:00:01Z'),
};

describe('toAuditEvent', () => {
  it('renders a read as a valid R4 AuditEvent with the user, the unit, the resource, the case and the pseudonym', () => {
    const event = toAuditEvent(row);
    assertValidFhir(event);
    expect(event.type.code).toBe('rest');
    expect(event.subtype?.[0]).toEqual({ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' });
    expect(event.action).toBe('R');
    expect(event.agent[0]?.who?.identifier).toEqual({
      system: 'urn:oid:1.2.752.29.4.19',
      value: 'SE2321000032-U123',
    });
    expect(event.agent[0]?.requestor).toBe(true);
    expect(event.agent[0]?.name).toBe('Sara Sjuksköterska');
    expect(event.agent[1]?.who?.identifier?.value).toBe(ORGS.regionWard);
    expect(event.source.observer.display).toBe('Samsyn consent');
    expect(event.entity?.map((e) => e.what?.reference ?? e.what?.identifier?.value)).toEqual([
      row.resource,
      `Task/${row.caseId}`,
      row.patientKey,
    ]);
    expect(event.entity?.[2]?.type?.code).toBe('1');
    expect(JSON.stringify(event)).not.toMatch(/191212121212/);
  });

  it('shows the personnummer beside the pseudonym only when the reviewer searched by it', () => {
    const shown = { system: 'http://electronichealth.se/identifier/personnummer', value: '191212121212' };
    const event = toAuditEvent(row, shown);
    assertValidFhir(event);
    expect(event.entity?.[2]?.detail).toEqual([{ type: shown.system, valueString: shown.value }]);
  });

  it('renders a search as a query entity and a denied access with its outcome', () => {
    const event = toAuditEvent({
      ...row,
      interaction: 'search-type',
      action: 'E',
      outcome: '4',
      resource: 'Consent',
      query: 'status=active',
      userId: 'record-system-client',
      userName: null,
    });
    assertValidFhir(event);
    expect(event.outcome).toBe('4');
    expect(event.agent[0]?.who?.identifier?.system).toBe('https://samsyn.se/fhir/sid/client-id');
    expect(Buffer.from(event.entity?.[0]?.query ?? '', 'base64').toString()).toBe('status=active');
  });
});

describe('the access log helpers', () => {
  it('takes the principal from the organisation number inside the HSA-id', () => {
    expect(principalOf(ORGS.municipalityHomeCare)).toBe('2120000415');
    expect(principalOf(ORGS.municipalitySocial)).toBe(principalOf(ORGS.municipalityOtherUnit));
    expect(principalOf(ORGS.regionWard)).not.toBe(principalOf(ORGS.outsider));
  });

  it('masks anything shaped like a personnummer before it is stored', () => {
    expect(redactPersonNumbers('patient=http://x|191212121212&b=19121212-1212')).toBe(
      'patient=http://x|[redacted]&b=[redacted]',
    );
    // A UUID whose last group happens to be twelve digits is not a personnummer.
    expect(redactPersonNumbers('Consent/5c0e1a52-8f51-4d7b-b7a4-201503120121')).toBe(
      'Consent/5c0e1a52-8f51-4d7b-b7a4-201503120121',
    );
  });

  it('reads an agent search value with or without the HSA system, and refuses another system', () => {
    expect(agentValue(ORGS.regionWard)).toBe(ORGS.regionWard);
    expect(agentValue(`urn:oid:1.2.752.29.4.19|${ORGS.regionWard}`)).toBe(ORGS.regionWard);
    expect(() => agentValue(`http://other|${ORGS.regionWard}`)).toThrow(/HSA-id system/);
  });
});
