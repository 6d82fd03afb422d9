// Helpers for the invitation service's integration tests: events in and out of this file's NATS namespace.
import { randomUUID } from 'node:crypto';
import { type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import type { OperationOutcome, Task } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, sipInitiative } from '@samsyn/testkit';
import { expect } from 'vitest';

/** Publishes an event as its owning service would (CloudEvents headers, JSON body). */
export async function publish<N extends EventName>(
  h: Harness,
  name: N,
  data: EventPayload<N>,
  id = randomUUID(),
): Promise<string> {
  const def = events[name];
  const headers = toHeaders({
    id,
    type: def.type,
    source: def.stream === 'PLAN' ? '/samsyn/plan-store' : '/samsyn/consent',
    time: new Date().toISOString(),
    subject: 'caseId' in data ? String(data.caseId) : id,
  });
  await h.bus.publishRaw(def.subject, new TextEncoder().encode(JSON.stringify(data)), headers);
  return id;
}

/** Every event published on `subject` of `stream` in this file's namespace, oldest first. */
export async function published(
  h: Harness,
  subject: string,
  stream = 'INVITATION',
): Promise<{ body: Record<string, unknown>; headers: Record<string, string> }[]> {
  const name = h.bus.naming.stream(stream as 'INVITATION');
  const info = await h.bus.jsm.streams.info(name);
  const found: { body: Record<string, unknown>; headers: Record<string, string> }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await h.bus.jsm.streams.getMessage(name, { seq }).catch(() => undefined);
    if (!msg || h.bus.naming.unprefix(msg.subject) !== subject) continue;
    const headers: Record<string, string> = {};
    for (const [k, v] of msg.header ?? []) headers[k] = v[0] ?? '';
    found.push({ headers, body: JSON.parse(new TextDecoder().decode(msg.data)) });
  }
  return found;
}

export function publishedFor(
  h: Harness,
  subject: string,
  match: (body: Record<string, unknown>) => boolean,
  stream = 'INVITATION',
) {
  return eventually(
    async () => {
      const hits = (await published(h, subject, stream)).filter((e) => match(e.body)).map((e) => e.body);
      return hits.length > 0 ? hits : undefined;
    },
    5000,
    `${subject} published`,
  );
}

export async function json<T>(res: Response, status: number): Promise<T> {
  const body = await res.text();
  expect(res.status, body.slice(0, 600)).toBe(status);
  return JSON.parse(body) as T;
}

export function diagnostics(outcome: OperationOutcome): string {
  expect(outcome.resourceType).toBe('OperationOutcome');
  return outcome.issue.map((i) => i.diagnostics).join('\n');
}

let counter = 0;
/** Creates an initiative as the region ward and returns the Task. */
export async function initiate(
  h: Harness,
  options: Parameters<typeof sipInitiative>[0] & { body?: (t: Record<string, unknown>) => void } = {},
): Promise<Task> {
  counter += 1;
  const body = sipInitiative({ identifier: `wf-${counter}-${randomUUID().slice(0, 8)}`, ...options });
  options.body?.(body);
  return json<Task>(
    await h.request('/fhir/Task', { method: 'POST', org: ORGS.regionWard, body: JSON.stringify(body) }),
    201,
  );
}

/** The invitation Task id of `org` in an initiative as its initiator reads it. */
export function invitationOf(task: Task, org: string): string {
  const ref = task.input?.find((i) => i.valueReference?.identifier?.value === org)?.valueReference?.reference;
  if (!ref) throw new Error(`${org} is not invited to Task/${task.id}`);
  return ref.replace('Task/', '');
}

/** Publishes sip.consent.given for `orgs` and returns the consent id. */
export async function giveConsent(h: Harness, caseId: string, orgs: string[]): Promise<string> {
  const consentId = randomUUID();
  const now = new Date();
  await publish(h, 'consentGiven', {
    consentId,
    caseId,
    at: now.toISOString(),
    coveredOrgs: orgs,
    periodStart: new Date(now.getTime() - 60_000).toISOString(),
    grantor: 'person',
  });
  return consentId;
}

export async function caseStatus(h: Harness, caseId: string): Promise<string | undefined> {
  const task = await json<Task>(await h.request(`/fhir/Task/${caseId}`, { org: ORGS.regionWard }), 200);
  return task.businessStatus?.coding?.[0]?.code;
}

/** Waits until the initiator sees the case in `status`. */
export function statusBecomes(h: Harness, caseId: string, status: string, timeoutMs = 5000) {
  return eventually(
    async () => ((await caseStatus(h, caseId)) === status ? true : undefined),
    timeoutMs,
    `case ${caseId} ${status}`,
  );
}
