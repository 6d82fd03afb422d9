// Deadlines live in the database: a discharge summons deadline set while no timer loop runs fires after a
// restart, once, with its deviation.
import type { Task } from '@samsyn/fhir';
import { createLogger, processMetrics, type ServiceInstance } from '@samsyn/platform';
import { eventually, type Harness, ORGS, sipInitiative, startHarness } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timers } from '../src/db/schema.ts';
import { createInvitationService } from '../src/service.ts';

const ENV = { TIMER_POLL_MS: '100' };
const DAY = 24 * 3_600_000;

let h: Harness;
let restarted: ServiceInstance | undefined;
beforeAll(async () => {
  h = await startHarness({ label: 'deadline-restart', factories: [createInvitationService], env: ENV });
});
afterAll(async () => {
  await restarted?.stop();
  await h?.stop();
});

/** Every event published on `subject` in this file's namespace, oldest first. */
async function published(subject: string): Promise<Record<string, unknown>[]> {
  const stream = h.bus.naming.stream('INVITATION');
  const filter = h.bus.naming.subject(subject);
  const info = await h.bus.jsm.streams.info(stream, { subjects_filter: filter });
  const count = info.state.subjects?.[filter] ?? 0;
  if (count === 0) return [];
  const consumer = await h.bus.js.consumers.get(stream, { filterSubjects: filter });
  const out: Record<string, unknown>[] = [];
  for await (const m of await consumer.fetch({ max_messages: count, expires: 2000 })) {
    out.push(m.json());
    if (out.length === count) break;
  }
  return out;
}

describe('the discharge summons deadline', () => {
  it('fires after the service restarts, exactly once, with a deviation for the initiator', async () => {
    // The service goes down before the case arrives, so no running loop can have seen the timer.
    await h.services[0]?.stop();
    const readyAt = new Date(Date.now() - 4 * DAY);
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify({
        ...sipInitiative({ identifier: 'discharge-restart', trigger: 'discharge' }),
        extension: [
          {
            url: 'https://samsyn.se/fhir/StructureDefinition/discharge-ready-at',
            valueDateTime: readyAt.toISOString(),
          },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const caseId = ((await res.json()) as Task).id as string;
    const summons = (await h.database.db.select().from(timers).where(eq(timers.caseId, caseId))).find(
      (t) => t.kind === 'discharge-summons',
    );
    expect(summons?.dueAt.toISOString()).toBe(new Date(readyAt.getTime() + 3 * DAY).toISOString());
    await new Promise((r) => setTimeout(r, 300));
    expect((await published('sip.deadline.due')).filter((e) => e.caseId === caseId)).toEqual([]);

    restarted = createInvitationService({
      database: h.database,
      bus: h.bus,
      log: createLogger({ service: 'invitation-restarted', level: 'silent' }),
      metrics: processMetrics(),
      env: ENV,
    });
    await restarted.start();

    const due = await eventually(
      async () => {
        const hits = (await published('sip.deadline.due')).filter(
          (e) => e.caseId === caseId && e.kind === 'discharge-summons',
        );
        return hits.length > 0 ? hits : undefined;
      },
      5000,
      'sip.deadline.due for the discharge summons',
    );
    expect(due[0]).toMatchObject({
      org: ORGS.regionWard,
      dueAt: summons?.dueAt.toISOString(),
      timerId: summons?.id,
    });
    // Several more polls go by; the deadline does not fire again.
    await new Promise((r) => setTimeout(r, 600));
    expect(
      (await published('sip.deadline.due')).filter(
        (e) => e.caseId === caseId && e.kind === 'discharge-summons',
      ),
    ).toHaveLength(1);
    const deviations = (await published('sip.deviation.reported')).filter((e) => e.caseId === caseId);
    expect(deviations).toEqual([
      expect.objectContaining({
        org: ORGS.regionWard,
        requesterOrg: ORGS.regionWard,
        cause: 'summons-deadline-missed',
      }),
    ]);
    const task = (await (await h.request(`/fhir/Task/${caseId}`, { org: ORGS.regionWard })).json()) as Task;
    expect(task.businessStatus?.coding?.[0]?.code).toBe('awaiting-consent');
  });
});
