// A patient search value names a person by a checked identifier, never by something that merely looks like one.

import { describe, expect, it } from 'vitest';
import { FhirError } from './errors.ts';
import { readPersonIdentifier, readPersonToken } from './person-token.ts';

const PNR = 'http://electronichealth.se/identifier/personnummer';
const SNR = 'http://electronichealth.se/identifier/samordningsnummer';

describe('readPersonToken', () => {
  it('reads system|value and normalises the number', () => {
    expect(readPersonIdentifier('patient', `${PNR}|19121212-1212`)).toEqual({
      system: PNR,
      value: '191212121212',
    });
  });

  it('tells a bare samordningsnummer from a personnummer by its day field', () => {
    expect(readPersonIdentifier('patient', '191212721219')).toMatchObject({ system: SNR });
  });

  it('refuses a wrong check digit with 400 invalid-personnummer', () => {
    try {
      readPersonIdentifier('patient', `${PNR}|191212121213`);
      expect.unreachable();
    } catch (err) {
      expect((err as FhirError).status).toBe(400);
      expect((err as FhirError).errorCode).toBe('invalid-personnummer');
    }
  });

  it('accepts the pseudonym itself in a log search, but not as a person identifier', () => {
    const key = 'https://samsyn.se/fhir/sid/patient-key|abcdefghijklmnopqrstuvwxyz012345';
    expect(readPersonToken('patient', key)).toEqual({
      kind: 'key',
      value: 'abcdefghijklmnopqrstuvwxyz012345',
    });
    expect(() => readPersonIdentifier('patient', key)).toThrow(FhirError);
  });
});
