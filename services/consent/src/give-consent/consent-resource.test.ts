// Reading a Consent: the profile's fixed codes, the person, the case, the covered organisations and the exclusions.
import { randomUUID } from 'node:crypto';
import { FhirError } from '@samsyn/fhir';
import { ORGS } from '@samsyn/testkit';
import { describe, expect, it } from 'vitest';
import { GUARDIANS, PEOPLE, sipConsent } from '../../test/fixtures.ts';
import { readConsent } from './consent-resource.ts';

const now = new Date('2026-11-22T10:00:00Z');
const caseId = randomUUID();

function problems(body: Record<string, unknown>): string[] {
  try {
    readConsent(body, now);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    return (err as FhirError).details.map((d) => d.diagnostics);
  }
  throw new Error('expected the Consent to be refused');
}

describe('readConsent', () => {
  it('reads a consent given by the person into the case, covered organisations and period', () => {
    const command = readConsent(sipConsent({ caseId }), now);
    expect(command.caseId).toBe(caseId);
    expect(command.status).toBe('active');
    expect(command.patient).toEqual({
      system: 'http://electronichealth.se/identifier/personnummer',
      value: PEOPLE.adult,
      birthDate: '1912-12-12',
    });
    expect(command.coveredOrgs).toEqual([ORGS.regionWard, ORGS.municipalityHomeCare]);
    expect(command.periodStart.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(command.periodEnd?.toISOString()).toBe('2027-11-20T00:00:00.000Z');
    expect(command.grantors.map((g) => g.kind)).toEqual(['person']);
    expect(command.ageAtConsent).toBe(113);
  });

  it('takes the age at the time the consent was given, not today', () => {
    // Born 2008-11-21: 17 on 2026-11-20 (dateTime), 18 on 2026-11-22 (now).
    const body = sipConsent({ caseId, personnummer: '200811212380' });
    expect(readConsent(body, now).ageAtConsent).toBe(17);
  });

  it('stores the person identifier normalised and fills in when the consent was given', () => {
    const body = sipConsent({ caseId, personnummer: '19121212-1212' });
    delete body.dateTime;
    const { resource } = readConsent(body, now);
    expect((resource.patient as { identifier: { value: string } }).identifier.value).toBe(PEOPLE.adult);
    expect(resource.dateTime).toBe(now.toISOString());
    expect(resource.status).toBeUndefined();
  });

  it('refuses a personnummer with a wrong check digit as invalid-personnummer, reported once', () => {
    try {
      readConsent(sipConsent({ caseId, personnummer: '191212121213' }), now);
      expect.unreachable();
    } catch (err) {
      expect((err as FhirError).errorCode).toBe('invalid-personnummer');
      expect((err as FhirError).details.map((d) => d.diagnostics)).toEqual([
        'Consent.patient.identifier: personnummer 191212121213 has a wrong check digit (expected 2)',
      ]);
    }
  });

  it('refuses a Consent without the sip-case extension, naming the form it needs', () => {
    const body = sipConsent({ caseId });
    body.extension = [];
    expect(problems(body).join()).toMatch(/"reference": "Task\/<id of the SIP initiative>"/);
  });

  it("refuses to create a Consent as 'inactive': that status is reached only by revoking", () => {
    expect(problems(sipConsent({ caseId, status: 'inactive' })).join()).toMatch(
      /becomes 'inactive' only by revoking/,
    );
  });

  it('refuses missing fixed codes: scope, category and policyRule, in one answer', () => {
    const body = { ...sipConsent({ caseId }), scope: { text: 'privacy' }, category: [{ text: 'x' }] };
    delete (body as Record<string, unknown>).policyRule;
    const found = problems(body);
    expect(found.join('\n')).toMatch(/Consent.scope: must be .*consentscope\|patient-privacy/);
    expect(found.join('\n')).toMatch(/Consent.category: must include http:\/\/loinc.org\|59284-0/);
    expect(found.join('\n')).toMatch(/Consent.policyRule: must be .*v3-ActCode\|OPTIN/);
  });

  it('refuses a covered organisation without the IRCP role or without a valid HSA-id', () => {
    const body = sipConsent({ caseId, orgs: ['SE21200004152001', ORGS.municipalitySocial] });
    const provision = body.provision as { actor: { role: unknown }[] };
    (provision.actor[1] as { role: unknown }).role = { coding: [{ system: 'x', code: 'PRCP' }] };
    const found = problems(body).join('\n');
    expect(found).toMatch(/actor\[0\].reference.identifier.value: HSA-id SE21200004152001 has no "-"/);
    expect(found).toMatch(/actor\[1\].role: must be .*\|IRCP/);
  });

  it('refuses a period that ends before it starts, and one without a start', () => {
    expect(
      problems(sipConsent({ caseId, periodStart: '2026-12-01', periodEnd: '2026-11-01' })).join(),
    ).toMatch(/period.end: must be after the start/);
    const open = sipConsent({ caseId });
    (open.provision as { period: Record<string, unknown> }).period = { end: '2027-01-01' };
    expect(problems(open).join()).toMatch(/period.start: when the consent starts to apply is required/);
  });

  it('records what the person does not want shared from nested deny provisions', () => {
    const command = readConsent(
      sipConsent({ caseId, exclusions: ['Missbruksvården', 'Uppgifter om ekonomi'] }),
      now,
    );
    expect(command.exclusions.map((e) => e.text)).toEqual(['Missbruksvården', 'Uppgifter om ekonomi']);
  });

  it('refuses a nested provision that permits instead of denying', () => {
    const body = sipConsent({ caseId, exclusions: ['x'] });
    (body.provision as { provision: { type: string }[] }).provision[0] = { type: 'permit' } as never;
    expect(problems(body).join()).toMatch(/its type is 'deny'/);
  });

  it('refuses exclusions nested deeper than one level', () => {
    const body = sipConsent({ caseId, exclusions: ['x'] });
    (body.provision as { provision: Record<string, unknown>[] }).provision[0] = {
      type: 'deny',
      code: [{ text: 'x' }],
      provision: [{ type: 'deny', code: [{ text: 'y' }] }],
    };
    expect(problems(body).join()).toMatch(/exclusions are one level deep/);
  });

  it('refuses a performer that is neither the person nor a contained RelatedPerson', () => {
    const body = sipConsent({ caseId });
    body.performer = [
      {
        identifier: { system: 'http://electronichealth.se/identifier/personnummer', value: PEOPLE.guardianA },
      },
    ];
    expect(problems(body).join()).toMatch(/Consent.performer\[0\]: a performer is either the person/);
  });

  it('refuses a guardian without a guardian or representative relationship code', () => {
    const body = sipConsent({
      caseId,
      personnummer: PEOPLE.child,
      performers: [{ ...GUARDIANS.a, relationship: 'MTH' }],
    });
    expect(problems(body).join()).toMatch(/relationship: must carry .*GUARD \(vårdnadshavare\)/);
  });

  it('refuses a contained resource nobody references', () => {
    const body = sipConsent({ caseId, personnummer: PEOPLE.child, performers: [GUARDIANS.a] });
    body.performer = [{ identifier: (body.patient as { identifier: unknown }).identifier }];
    expect(problems(body).join()).toMatch(/Consent.contained\[0\]: a contained resource must be referenced/);
  });

  it('reads guardians as grantors, told apart by their personnummer', () => {
    const command = readConsent(
      sipConsent({ caseId, personnummer: PEOPLE.child, performers: [GUARDIANS.a, GUARDIANS.b] }),
      now,
    );
    expect(command.grantors.map((g) => [g.kind, g.key, g.label])).toEqual([
      [
        'guardian',
        `http://electronichealth.se/identifier/personnummer|${PEOPLE.guardianA}`,
        'Anna Andersson',
      ],
      ['guardian', `http://electronichealth.se/identifier/personnummer|${PEOPLE.guardianB}`, 'Bo Andersson'],
    ]);
  });
});
