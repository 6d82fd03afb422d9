// The FHIR Task of a SIP initiative as a record system sends it (the test fixture), for the load scenarios.
import { ORGS, sipInitiative } from '@samsyn/testkit/fixtures';

/** The initiating hospital ward. */
export const WARD = ORGS.regionWard;

/**
 * Initiative `n` from the ward inviting three units: `unique` gives it units of its own, `false` the same three
 * every time, a list three of its units in turn.
 */
export function initiative(
  n: number,
  unique: boolean | readonly string[],
): { body: string; invitees: string[] } {
  const unit = (k: number) =>
    Array.isArray(unique)
      ? (unique[(3 * n + k) % unique.length] as string)
      : unique
        ? `SE2120000415-B${n}${k}`
        : `SE2120000415-${k + 2}001`;
  const invitees = [unit(0), unit(1), unit(2)];
  const body = sipInitiative({
    identifier: `${process.pid}-${n}-${crypto.randomUUID()}`,
    invitees: invitees.map((org, k) => ({ org, kind: k === 0 ? 'summoned' : 'invited' })),
  });
  return { body: JSON.stringify(body), invitees };
}

/** `count` invited units for the watched inboxes (one SSE stream each). */
export function watchedUnits(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `SE2120000415-W${String(i).padStart(3, '0')}`);
}
