// The person named by a `patient` search value: a personnummer or samordningsnummer (checked, normalised),
// or — in the access log — the pseudonym itself.
import { InvalidRequest } from './errors.ts';
import { checkPersonIdentifier, PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM } from './identifiers.ts';
import { parseToken } from './search.ts';

export const PATIENT_KEY_SYSTEM = 'https://samsyn.se/fhir/sid/patient-key';

export interface PersonIdentifier {
  system: string;
  value: string;
}

export type PersonToken = ({ kind: 'identifier' } & PersonIdentifier) | { kind: 'key'; value: string };

/**
 * `system|value` names one identifier; a bare value is tried as both personnummer and samordningsnummer (only one
 * can fit, the day field tells them apart). A value that is no valid identifier is a 400 saying why.
 */
export function readPersonIdentifier(name: string, raw: string): PersonIdentifier {
  const token = parseToken(raw.replace(/^Patient\?identifier=/, ''));
  const systems = token.system ? [token.system] : [PERSONNUMMER_SYSTEM, SAMORDNINGSNUMMER_SYSTEM];
  const reasons: string[] = [];
  for (const system of systems) {
    const checked = checkPersonIdentifier(system, token.code);
    if (checked.ok) return { system, value: checked.value };
    reasons.push(checked.reason);
  }
  throw new InvalidRequest(
    'invalid-personnummer',
    `${name}: ${reasons[0] ?? 'not a person identifier'}; search with ${name}=${PERSONNUMMER_SYSTEM}|YYYYMMDDNNNC`,
  );
}

/** As readPersonIdentifier, but `https://samsyn.se/fhir/sid/patient-key|<key>` names the pseudonym directly. */
export function readPersonToken(name: string, raw: string): PersonToken {
  const token = parseToken(raw);
  if (token.system === PATIENT_KEY_SYSTEM) {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(token.code)) {
      throw new InvalidRequest('invalid-search', `${name}: '${token.code}' is not a patient key`);
    }
    return { kind: 'key', value: token.code };
  }
  return { kind: 'identifier', ...readPersonIdentifier(name, raw) };
}
