// Who may consent (SPEC §3): the person, a legal representative, or a child's guardians — both when there are two.
import { FhirError } from '@samsyn/fhir';
import { describe, expect, it } from 'vitest';
import type { Grantor } from './consent-resource.ts';
import { checkGrantors } from './grantors.ts';

const anna: Grantor = {
  kind: 'guardian',
  key: 'pnr|198001019879',
  label: 'Anna Andersson',
  at: 'Consent.performer[0]',
};
const bo: Grantor = {
  kind: 'guardian',
  key: 'pnr|198202021237',
  label: 'Bo Andersson',
  at: 'Consent.performer[1]',
};
const person: Grantor = {
  kind: 'person',
  key: 'pnr|191212121212',
  label: 'the person',
  at: 'Consent.performer[0]',
};
const godMan: Grantor = {
  kind: 'representative',
  key: 'name|gun',
  label: 'Gun Godman',
  at: 'Consent.performer[0]',
};

function refusal(command: Parameters<typeof checkGrantors>[0]): string {
  try {
    checkGrantors(command);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(422);
    expect((err as FhirError).errorCode).toBe('consent-grantor-missing');
    return (err as FhirError).message;
  }
  throw new Error('expected the grantors to be refused');
}

describe('checkGrantors', () => {
  it("accepts a child's consent from both registered guardians, given by the guardians", () => {
    expect(
      checkGrantors({ status: 'active', ageAtConsent: 11, registeredGuardians: 2, grantors: [anna, bo] }),
    ).toBe('guardians');
  });

  it('refuses a child with two registered guardians when only one consented, naming who is missing', () => {
    const message = refusal({ status: 'active', ageAtConsent: 11, registeredGuardians: 2, grantors: [anna] });
    expect(message).toMatch(/two guardians are registered, so both must consent/);
    expect(message).toMatch(/only Anna Andersson consented/);
    expect(message).toMatch(/Missing: the second guardian/);
  });

  it('counts the same guardian named twice once', () => {
    const message = refusal({
      status: 'active',
      ageAtConsent: 11,
      registeredGuardians: 2,
      grantors: [anna, anna],
    });
    expect(message).toMatch(/Missing: the second guardian/);
  });

  it('refuses a child whose consent does not say how many guardians are registered', () => {
    expect(refusal({ status: 'active', ageAtConsent: 11, grantors: [anna] })).toMatch(
      /say how many guardians are registered with .*registered-guardians/,
    );
  });

  it("refuses a child's consent given by the child alone", () => {
    expect(
      refusal({ status: 'active', ageAtConsent: 15, registeredGuardians: 1, grantors: [person] }),
    ).toMatch(/no guardian is a performer/);
  });

  it('accepts one guardian where one is registered', () => {
    expect(
      checkGrantors({ status: 'active', ageAtConsent: 3, registeredGuardians: 1, grantors: [anna] }),
    ).toBe('guardians');
  });

  it('lets one guardian refuse: one no is enough to stop the SIP', () => {
    expect(
      checkGrantors({ status: 'rejected', ageAtConsent: 11, registeredGuardians: 2, grantors: [bo] }),
    ).toBe('guardians');
  });

  it('treats a person who turned 18 as an adult who consents personally', () => {
    expect(checkGrantors({ status: 'active', ageAtConsent: 18, grantors: [person] })).toBe('person');
  });

  it('accepts an adult represented by a god man or förvaltare', () => {
    expect(checkGrantors({ status: 'active', ageAtConsent: 40, grantors: [godMan] })).toBe('representative');
  });

  it('refuses a guardian for an adult and points at the representative codes', () => {
    expect(refusal({ status: 'active', ageAtConsent: 40, grantors: [anna] })).toMatch(
      /an adult has no guardian .* RESPRSN/,
    );
  });

  it('refuses an adult consent nobody gave', () => {
    expect(refusal({ status: 'active', ageAtConsent: 40, grantors: [] })).toMatch(/must be a performer/);
  });

  it('stores a draft without anyone having consented yet', () => {
    expect(checkGrantors({ status: 'draft', ageAtConsent: 11, grantors: [] })).toBe('guardians');
  });
});
