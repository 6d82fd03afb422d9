// Validation of Swedish person identifiers (personnummer, samordningsnummer) and HSA-ids as used in FHIR.
import { stockholmDate } from './swedish-calendar.ts';

export const PERSONNUMMER_SYSTEM = 'http://electronichealth.se/identifier/personnummer';
export const SAMORDNINGSNUMMER_SYSTEM = 'http://electronichealth.se/identifier/samordningsnummer';
export const HSA_SYSTEM = 'urn:oid:1.2.752.29.4.19';
export const HSA_SYSTEM_ALT = 'urn:oid:1.2.752.129.2.1.4.1';

export type PersonIdCheck =
  | {
      ok: true;
      /** Normalised to 12 digits, YYYYMMDDNNNC. */
      value: string;
      /** YYYY-MM-DD; for a samordningsnummer the day with 60 subtracted. */
      birthDate: string;
      sex: 'male' | 'female';
    }
  | { ok: false; reason: string };

type PersonIdKind = 'personnummer' | 'samordningsnummer';

const SAMORDNINGSNUMMER_DAY_OFFSET = 60;
const EARLIEST_BIRTH_YEAR = 1850;
const HSA_ID_MAX_LENGTH = 31;

/**
 * Checks a 12-digit personnummer (YYYYMMDDNNNC, or YYYYMMDD-NNNC which is normalised). The birth date must
 * be a real date from 1850 on and not after `now`'s date in Sweden; C must be the Luhn digit of YYMMDDNNN.
 */
export function checkPersonnummer(value: string, now: Date = new Date()): PersonIdCheck {
  return checkPersonId('personnummer', value, now);
}

/** Checks a 12-digit samordningsnummer: as a personnummer, but with 60 added to the day (61–91). */
export function checkSamordningsnummer(value: string, now: Date = new Date()): PersonIdCheck {
  return checkPersonId('samordningsnummer', value, now);
}

/** Checks a FHIR Identifier's value against the rules of its system. */
export function checkPersonIdentifier(system: string, value: string, now: Date = new Date()): PersonIdCheck {
  if (system === PERSONNUMMER_SYSTEM) return checkPersonnummer(value, now);
  if (system === SAMORDNINGSNUMMER_SYSTEM) return checkSamordningsnummer(value, now);
  return {
    ok: false,
    reason: `identifier system "${system}" is not a Swedish person identifier system; use ${PERSONNUMMER_SYSTEM} or ${SAMORDNINGSNUMMER_SYSTEM}`,
  };
}

function checkPersonId(kind: PersonIdKind, raw: string, now: Date): PersonIdCheck {
  const fail = (reason: string): PersonIdCheck => ({ ok: false, reason });

  const m = /^(\d{8})-?(\d{4})$/.exec(raw);
  if (m?.[1] === undefined || m[2] === undefined) {
    // A 10-digit number leaves the century to guesswork (and to the +/- separator), which FHIR does not allow.
    if (/^\d{6}[-+]?\d{4}$/.test(raw)) {
      return fail(
        `${kind} ${raw} has 10 digits; 12 digits are required (YYYYMMDDNNNC, with the century in front)`,
      );
    }
    if (raw.trim() === '') return fail(`${kind} is empty; expected 12 digits YYYYMMDDNNNC`);
    if (/[^\d-]/.test(raw)) {
      return fail(
        `${kind} ${JSON.stringify(raw)} contains characters other than digits; expected 12 digits YYYYMMDDNNNC (or YYYYMMDD-NNNC)`,
      );
    }
    const digitCount = raw.replace(/-/g, '').length;
    if (digitCount === 12) {
      return fail(`${kind} ${raw} has a misplaced hyphen; write YYYYMMDDNNNC or YYYYMMDD-NNNC`);
    }
    return fail(`${kind} ${raw} has ${digitCount} digits; 12 digits are required (YYYYMMDDNNNC)`);
  }
  const value = m[1] + m[2];

  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(4, 6));
  const dayField = Number(value.slice(6, 8));

  if (kind === 'personnummer' && dayField > SAMORDNINGSNUMMER_DAY_OFFSET) {
    return fail(
      `personnummer ${value} looks like a samordningsnummer (day ${dayField} is above 60); use system ${SAMORDNINGSNUMMER_SYSTEM}`,
    );
  }
  if (kind === 'samordningsnummer' && dayField >= 1 && dayField <= 31) {
    return fail(
      `samordningsnummer ${value} looks like a personnummer (day ${dayField} has not had 60 added); use system ${PERSONNUMMER_SYSTEM}`,
    );
  }
  if (kind === 'samordningsnummer' && (dayField <= SAMORDNINGSNUMMER_DAY_OFFSET || dayField > 91)) {
    return fail(
      `samordningsnummer ${value} has day field ${dayField}; it must be the day of birth plus 60 (61–91)`,
    );
  }
  const day = kind === 'samordningsnummer' ? dayField - SAMORDNINGSNUMMER_DAY_OFFSET : dayField;

  const birthDate = `${value.slice(0, 4)}-${value.slice(4, 6)}-${String(day).padStart(2, '0')}`;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    const offsetNote = kind === 'samordningsnummer' ? ` (day field ${dayField} minus 60)` : '';
    return fail(
      `${kind} ${value} has an invalid birth date: ${birthDate}${offsetNote} is not a calendar date`,
    );
  }
  if (year < EARLIEST_BIRTH_YEAR) {
    return fail(
      `${kind} ${value} has birth year ${year}; years before ${EARLIEST_BIRTH_YEAR} are not accepted`,
    );
  }
  // The number was issued in Sweden, so "today" is today's date in Stockholm, not in UTC.
  const today = stockholmDate(now);
  if (birthDate > today) {
    return fail(`${kind} ${value} has a birth date in the future (${birthDate} is after ${today})`);
  }

  const expected = luhnCheckDigit(value.slice(2, 11));
  if (Number(value[11]) !== expected) {
    return fail(`${kind} ${value} has a wrong check digit (expected ${expected})`);
  }

  return { ok: true, value, birthDate, sex: Number(value[10]) % 2 === 1 ? 'male' : 'female' };
}

/** Luhn (mod 10) check digit: weights 2,1,2,1,... from the left, digits of each product summed. */
function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const product = Number(digits[i]) * (i % 2 === 0 ? 2 : 1);
    sum += product > 9 ? product - 9 : product;
  }
  return (10 - (sum % 10)) % 10;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return new Date(Date.UTC(2001, month, 0)).getUTCDate();
}

/** Whether a FHIR Identifier.system names the HSA catalogue (either OID in use). */
export function isHsaSystem(system: string | undefined): boolean {
  return system === HSA_SYSTEM || system === HSA_SYSTEM_ALT;
}

/**
 * Checks an HSA-id: "SE", a 10-digit organisation number, "-", then one or more letters or digits,
 * at most 31 characters in all (e.g. SE2321000032-1001).
 */
export function checkHsaId(value: string): { ok: true; value: string } | { ok: false; reason: string } {
  const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
  if (value === '') return fail('HSA-id is empty; expected e.g. SE2321000032-1001');
  if (/^se/i.test(value) && !value.startsWith('SE')) {
    return fail(`HSA-id ${value} must start with upper-case "SE"`);
  }
  if (!value.startsWith('SE')) {
    return fail(`HSA-id ${value} must start with "SE" followed by a 10-digit organisation number`);
  }
  if (value.length > HSA_ID_MAX_LENGTH) {
    return fail(
      `HSA-id ${value} is ${value.length} characters long; at most ${HSA_ID_MAX_LENGTH} are allowed`,
    );
  }
  const hyphen = value.indexOf('-');
  if (hyphen === -1) {
    return fail(`HSA-id ${value} has no "-" between the organisation number and the local part`);
  }
  const orgNumber = value.slice(2, hyphen);
  if (!/^\d{10}$/.test(orgNumber)) {
    return fail(`HSA-id ${value} must have a 10-digit organisation number after "SE", got "${orgNumber}"`);
  }
  const local = value.slice(hyphen + 1);
  if (local === '') return fail(`HSA-id ${value} has nothing after the "-"`);
  if (!/^[A-Za-z0-9]+$/.test(local)) {
    return fail(`HSA-id ${value} may only have letters A–Z and digits after the "-", got "${local}"`);
  }
  return { ok: true, value };
}

/**
 * Completed years at `at`, taken as a date in Stockholm. Someone born on 29 February gains a year on
 * 1 March in common years.
 */
export function ageAt(birthDate: string, at: Date): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new RangeError(`birthDate must be YYYY-MM-DD, got "${birthDate}"`);
  }
  const birthYear = Number(m[1]);
  const birthMonth = Number(m[2]);
  const birthDay = Number(m[3]);
  if (birthMonth < 1 || birthMonth > 12 || birthDay < 1 || birthDay > daysInMonth(birthYear, birthMonth)) {
    throw new RangeError(`birthDate ${birthDate} is not a calendar date`);
  }
  const today = stockholmDate(at);
  if (today < birthDate)
    throw new RangeError(`birthDate ${birthDate} is after the date asked about (${today})`);
  const year = Number(today.slice(0, 4));
  const monthDay = today.slice(5);
  return year - birthYear - (monthDay < birthDate.slice(5) ? 1 : 0);
}

/** Age band for SIP statistics and routing: child under 18, adult 18–64, older 65 and up. */
export function ageBand(age: number): 'child' | 'adult' | 'older' {
  if (!Number.isFinite(age) || age < 0) throw new RangeError(`age must be a non-negative number, got ${age}`);
  if (age < 18) return 'child';
  if (age < 65) return 'adult';
  return 'older';
}
