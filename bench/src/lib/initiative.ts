// The FHIR Task of a SIP initiative as a record system sends it (the test fixture), for the load scenarios.
import { ORGS, sipInitiative } from '@samsyn/testkit/fixtures';

/** The initiating hospital ward. */
export const WARD = ORGS.regionWard;

/** Initiative `n` from the ward inviting three units; `unique` gives each its own units so its inbox is its own. */
export function initiative(n: number, unique: boolean): { body: string; invitees: string[] } {
  const unit = (k: number) => (unique ? `SE2120000415-B${n}${k}` : `SE2120000415-${k + 2}001`);
  const invitees = [unit(0), unit(1), unit(2)];
  const body = sipInitiative({
    identifier: `${process.pid}-${n}-${crypto.randomUUID()}`,
    invitees: invitees.map((org, k) => ({ org, kind: k === 0 ? 'summoned' : 'invited' })),
  });
  return { body: JSON.stringify(body), invitees };
}
