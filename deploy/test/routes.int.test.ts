// The Ingress sends /fhir/<Type> to the service that owns <Type>: ownership is what each service declares in its
// CapabilityStatement part (composed here against real PostgreSQL and NATS, without starting consumers).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_FACTORIES } from '@samsyn/local/src/samsyn.ts';
import { type Harness, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../src/kustomize.ts';
import { fhirRoutes } from '../src/policy.ts';

const DEPLOY = fileURLToPath(new URL('..', import.meta.url));
/**
 * Types that have an owner (SPEC §5, or the owner's routes in progress on another branch) but that the owner does
 * not declare in its CapabilityStatement yet. Routed ahead of time; once declared, the declaration is what counts.
 */
const NOT_YET_DECLARED: Record<string, string> = {
  Appointment: 'invitation',
  Flag: 'invitation',
  Subscription: 'notification',
  CarePlan: 'plan-store',
  MeasureReport: 'statistics',
};
/** Served by every service (the shared SIP code systems) or by the composer: routed to any one of them. */
const SHARED = new Set(['CodeSystem', 'metadata']);

let h: Harness;
let declared: Map<string, string>;
beforeAll(async () => {
  h = await startHarness({ label: 'routes', factories: Object.values(SERVICE_FACTORIES), start: false });
  declared = new Map();
  for (const s of h.services)
    for (const c of s.capability) {
      expect(declared.get(c.type), `${c.type} declared twice`).toBeUndefined();
      declared.set(c.type, s.name);
    }
});
afterAll(async () => h?.stop());

describe.each(['base', 'overlays/dev', 'overlays/production'])('the Ingress of %s', (overlay) => {
  it('routes every resource type a service declares to that service', () => {
    const routes = fhirRoutes(render(join(DEPLOY, overlay)));
    expect(declared.size).toBeGreaterThan(0);
    for (const [type, owner] of declared) expect(routes.get(type), `/fhir/${type}`).toBe(owner);
  });

  it('has no route to a service that does not own the type', () => {
    const routes = fhirRoutes(render(join(DEPLOY, overlay)));
    for (const [type, backend] of routes) {
      if (SHARED.has(type)) continue;
      expect(declared.get(type) ?? NOT_YET_DECLARED[type], `/fhir/${type}`).toBe(backend);
    }
  });
});
