// Test helpers: publish contract events as the other services would, and read a unit's inbox over FHIR.
import { randomUUID } from 'node:crypto';
import { type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import type { Bundle, Communication } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, ORGS } from '@samsyn/testkit';

export async function publish<N extends EventName>(
  h: Harness,
  name: N,
  data: EventPayload<N>,
  options: { id?: string; msgId?: string; time?: string } = {},
): Promise<string> {
  const def = events[name];
  const id = options.id ?? randomUUID();
  const headers = toHeaders({
    id,
    type: def.type,
    source: '/samsyn/test',
    time: options.time ?? new Date().toISOString(),
    subject: (data as { caseId?: string }).caseId ?? 'x',
  });
  headers['Nats-Msg-Id'] = options.msgId ?? id;
  await h.bus.publishRaw(
    def.subject,
    new TextEncoder().encode(JSON.stringify(def.schema.parse(data))),
    headers,
  );
  return id;
}

export async function inbox(h: Harness, org: string, query = ''): Promise<Communication[]> {
  const res = await h.request(`/fhir/Communication${query ? `?${query}` : ''}`, { org });
  if (res.status !== 200) throw new Error(`inbox ${res.status}: ${await res.text()}`);
  const bundle = (await res.json()) as Bundle;
  assertValidFhir(bundle);
  return (bundle.entry ?? []).map((e) => e.resource as Communication);
}

/** Waits until `org` has a notification of `type` about the case, and returns it. */
export async function waitFor(
  h: Harness,
  org: string,
  type: string,
  caseId: string,
  timeoutMs = 20_000,
): Promise<Communication> {
  return eventually(
    async () => {
      const list = await inbox(h, org, `category=${type}&about=Task/${caseId}`);
      return list[0];
    },
    timeoutMs,
    `${type} for ${org} in case ${caseId}`,
  );
}

/** Waits until the durable consumer on `stream` has nothing pending or unacknowledged. */
export async function drained(h: Harness, stream: 'INVITATION' | 'CONSENT' | 'PLAN'): Promise<void> {
  await eventually(
    async () => {
      const info = await h.bus.jsm.consumers.info(h.bus.naming.stream(stream), 'notification');
      return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
    },
    20_000,
    `${stream} consumed`,
  );
}

export const text = (c: Communication | undefined): string => c?.payload?.[0]?.contentString ?? '';
export const type = (c: Communication | undefined): string | undefined => c?.category?.[0]?.coding?.[0]?.code;
export const state = (c: Communication | undefined): string | undefined =>
  c?.extension?.find((e) => e.url.endsWith('/inbox-state'))?.valueCode;

/** A case initiated by the region ward, inviting home care (summoned) and social services (invited). */
export function initiated(caseId = randomUUID()): EventPayload<'caseInitiated'> {
  return {
    caseId,
    requesterOrg: ORGS.regionWard,
    trigger: 'discharge',
    dischargeReadyAt: '2026-11-20T08:00:00.000Z',
    initiatedAt: '2026-11-20T08:00:00.000Z',
    person: { ageBand: 'older' },
    invitations: [
      { invitationId: randomUUID(), org: ORGS.municipalityHomeCare, kind: 'summoned' },
      { invitationId: randomUUID(), org: ORGS.municipalitySocial, kind: 'invited' },
    ],
  };
}
