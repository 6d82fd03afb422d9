// The walking-skeleton slice across five separate processes (the built bundles the images run), and SIGTERM under
// load: a draining service finishes what it started, and nothing is lost or done twice.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Communication, Task } from '@samsyn/fhir';
import { devKeyPath, loadOrCreateDevKey, mintToken } from '@samsyn/platform';
import {
  assertValidFhir,
  createTestDatabase,
  deleteNamespaceStreams,
  eventually,
  natsUrl,
  ORGS,
  sipInitiative,
  type TestDatabase,
  testNamespace,
} from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  type RunningProcesses,
  SERVICE_NAMES,
  type ServiceProcess,
  startProcesses,
} from '../src/processes.ts';

const IDENTIFIER_SYSTEM = 'https://journal.region-exempel.se/sip-initiative';
const INVITEES = [ORGS.municipalityHomeCare, ORGS.municipalitySocial];

let testDb: TestDatabase;
let namespace: string;
let dataDir: string;
let running: RunningProcesses;
const tokens = new Map<string, string>();

beforeAll(async () => {
  // The test runs what the image runs: `node dist/main.js`, bundled from the current sources.
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'deploy', 'build-service.mjs'),
      ...SERVICE_NAMES.map((s) => join(REPO_ROOT, 'services', s)),
    ],
    { stdio: 'pipe' },
  );
  testDb = await createTestDatabase('procs');
  namespace = testNamespace('procs');
  dataDir = mkdtempSync(join(tmpdir(), 'samsyn-procs-'));
  running = await startProcesses({
    databaseUrl: testDb.url,
    natsUrl: natsUrl(),
    namespace,
    dataDir,
    shutdownGraceSeconds: 10,
    env: { LOG_LEVEL: 'info' },
  });
  const key = await loadOrCreateDevKey(devKeyPath({ DATA_DIR: dataDir }));
  for (const org of [ORGS.regionWard, ...INVITEES, ORGS.outsider]) {
    tokens.set(org, await mintToken(key, { org }, { issuer: 'samsyn-dev', audience: 'samsyn' }));
  }
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await deleteNamespaceStreams(natsUrl(), namespace).catch(() => {});
  await testDb?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function request(path: string, init: RequestInit & { org?: string } = {}): Promise<Response> {
  const { org, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (org) headers.set('authorization', `Bearer ${tokens.get(org)}`);
  if (rest.body) headers.set('content-type', 'application/fhir+json');
  return fetch(`${running.router.url}${path}`, { ...rest, headers });
}

async function inbox(org: string): Promise<Communication[]> {
  const res = await request(`/fhir/Communication?recipient=${org}&_count=200`, { org });
  expect(res.status).toBe(200);
  const bundle = (await res.json()) as Bundle;
  return (bundle.entry ?? []).map((e) => e.resource as Communication);
}

/** Notifications per initiative Task id, for one unit. */
async function notificationsByInitiative(org: string, initiativeIds: string[]): Promise<Map<string, number>> {
  const counts = new Map(initiativeIds.map((id) => [id, 0]));
  for (const c of await inbox(org)) {
    for (const id of initiativeIds) {
      if (c.about?.some((a) => a.reference === `Task/${id}`)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Sends an initiative the way a careful record system does: with If-None-Exist, retrying on 503 or a broken
 * connection until it gets an answer. Returns the Task id.
 */
async function sendInitiative(identifier: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await request('/fhir/Task', {
        method: 'POST',
        org: ORGS.regionWard,
        headers: { 'if-none-exist': `identifier=${IDENTIFIER_SYSTEM}|${identifier}` },
        body: JSON.stringify(sipInitiative({ identifier })),
      });
      if (res.status === 201 || res.status === 200) return ((await res.json()) as Task).id as string;
      if (res.status !== 503)
        throw new Error(`POST ${identifier} answered ${res.status}: ${await res.text()}`);
    } catch (err) {
      if ((err as Error).message.startsWith('POST ')) throw err;
    }
    if (Date.now() > deadline) throw new Error(`initiative ${identifier} not accepted within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function sendMany(prefix: string, count: number, parallel: number): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        ids[i] = await sendInitiative(`${prefix}-${i}`);
      }
    }),
  );
  return ids;
}

function logEntries(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/**
 * SIGTERMs `service` and checks it drained: exit code 0 within `withinMs`, "shutdown complete" logged and no step
 * failed (in its lines since `since`).
 */
async function drainsOnSigterm(service: ServiceProcess, since: number, withinMs: number): Promise<void> {
  const signalled = Date.now();
  expect(await service.stop('SIGTERM')).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(withinMs);
  const shutdown = logEntries(service.lines.slice(since));
  expect(shutdown.some((e) => e.msg === 'shutdown complete')).toBe(true);
  expect(shutdown.filter((e) => e.msg === 'shutdown step failed')).toEqual([]);
}

describe('five services as separate processes behind the router', () => {
  it('route each resource type to the service that declares it', () => {
    expect(running.router.routes.get('Task')).toBe('invitation');
    expect(running.router.routes.get('Communication')).toBe('notification');
    for (const name of new Set(running.router.routes.values())) expect(SERVICE_NAMES).toContain(name);
  });

  it('answer one CapabilityStatement naming the resources of every process', async () => {
    const res = await request('/fhir/metadata');
    expect(res.status).toBe(200);
    const cs = (await res.json()) as { rest: { resource: { type: string }[] }[] };
    assertValidFhir(cs);
    expect(cs.rest[0]?.resource.map((r) => r.type)).toEqual(
      expect.arrayContaining(['Task', 'Communication', 'CodeSystem']),
    );
  });

  it('carry an initiative from invitation to one notification per invited unit, and to nobody else', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify(sipInitiative({ identifier: 'procs-slice' })),
    });
    expect(res.status).toBe(201);
    const task = (await res.json()) as Task;
    assertValidFhir(task);
    for (const org of INVITEES) {
      const found = await eventually(
        async () => {
          const list = (await inbox(org)).filter((c) =>
            c.about?.some((a) => a.reference === `Task/${task.id}`),
          );
          return list.length > 0 ? list : undefined;
        },
        10_000,
        `notification for ${org}`,
      );
      expect(found).toHaveLength(1);
      assertValidFhir(found[0]);
      expect(JSON.stringify(found[0])).not.toMatch(/Tolvan|191212121212/);
    }
    expect(await inbox(ORGS.outsider)).toEqual([]);
    // The caller's trace id went with the event over NATS and into the consumer's log line in another process.
    const handled = logEntries(running.services.notification.lines).find(
      (e) => e.msg === 'event handled' && e.traceId === traceId,
    );
    expect(handled).toMatchObject({ type: 'se.samsyn.case.initiated.v1', outcome: 'applied' });
    const requestLine = logEntries(running.services.invitation.lines).find(
      (e) => e.msg === 'request' && e.traceId === traceId,
    );
    expect(requestLine).toMatchObject({ method: 'POST', status: 201 });
  });

  it('each answer /fhir/metadata for all of Samsyn and serve every code system, as learnt over NATS', async () => {
    const types = [...running.router.routes.keys()];
    expect(types).toEqual(expect.arrayContaining(['Task', 'Communication', 'CarePlan']));
    const token = tokens.get(ORGS.regionWard);
    for (const service of Object.values(running.services)) {
      const res = await fetch(`${service.url}/fhir/metadata`);
      const cs = (await res.json()) as { rest: { resource: { type: string }[] }[] };
      expect(
        cs.rest[0]?.resource.map((r) => r.type),
        service.name,
      ).toEqual(expect.arrayContaining(types));
    }
    // A code system plan-store defines, read from the invitation process.
    const own = await fetch(`${running.services['plan-store'].url}/fhir/CodeSystem?_count=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const planIds = ((await own.json()) as Bundle).entry?.map((e) => e.resource?.id ?? '') ?? [];
    const fromInvitation = await fetch(`${running.services.invitation.url}/fhir/CodeSystem?_count=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const invitationIds =
      ((await fromInvitation.json()) as Bundle).entry?.map((e) => e.resource?.id ?? '') ?? [];
    expect(planIds.length).toBeGreaterThan(0);
    expect(invitationIds).toEqual(expect.arrayContaining(planIds));
  });

  it('answer a type no service owns with a 404 OperationOutcome', async () => {
    const res = await request('/fhir/Medication', { org: ORGS.regionWard });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });
});

describe('SIGTERM to a service under load', () => {
  it('lets the notification service drain its consumer, and after a restart every initiative has each of its notifications exactly once', async () => {
    const notification = running.services.notification;
    const before = notification.lines.length;
    const load = sendMany('drain-notification', 40, 6);
    // Stop the consumer while events are arriving.
    await eventually(
      async () =>
        logEntries(notification.lines.slice(before)).some((e) => e.msg === 'event handled')
          ? true
          : undefined,
      20_000,
      'notification consuming',
    );
    // Well inside the grace period (SHUTDOWN_GRACE_SECONDS=10), so Kubernetes never has to SIGKILL it.
    await drainsOnSigterm(notification, before, 10_000);
    const ids = await load;
    await notification.start();
    for (const org of INVITEES) {
      const counts = await eventually(
        async () => {
          const c = await notificationsByInitiative(org, ids);
          return [...c.values()].every((n) => n >= 1) ? c : undefined;
        },
        30_000,
        `all 40 notifications for ${org}`,
      );
      expect([...counts.values()]).toEqual(ids.map(() => 1));
    }
  }, 120_000);

  it('lets the invitation service finish the requests it accepted, and clients that retry with If-None-Exist create each initiative once and notify each unit once', async () => {
    const invitation = running.services.invitation;
    const before = invitation.lines.length;
    const load = sendMany('drain-invitation', 40, 6);
    await eventually(
      async () =>
        logEntries(invitation.lines.slice(before)).filter((e) => e.msg === 'request' && e.status === 201)
          .length >= 5
          ? true
          : undefined,
      20_000,
      'invitation accepting initiatives',
    );
    // Well inside the grace period (SHUTDOWN_GRACE_SECONDS=10): the router's idle keep-alive sockets are closed as
    // soon as their request is done, instead of holding the drain for half the grace period.
    await drainsOnSigterm(invitation, before, 5_000);
    await invitation.start();
    const ids = await load;
    expect(new Set(ids).size).toBe(40);
    // One Task per identifier, however many times a client had to retry.
    const search = await request(`/fhir/Task?requester=${ORGS.regionWard}&_count=200`, {
      org: ORGS.regionWard,
    });
    expect(search.status, await search.clone().text()).toBe(200);
    const sent = ((await search.json()) as Bundle).entry
      ?.map((e) => (e.resource as Task).identifier?.[0]?.value ?? '')
      .filter((v) => v.startsWith('drain-invitation-'));
    expect(sent).toHaveLength(40);
    expect(new Set(sent).size).toBe(40);
    for (const org of INVITEES) {
      const counts = await eventually(
        async () => {
          const c = await notificationsByInitiative(org, ids);
          return [...c.values()].every((n) => n >= 1) ? c : undefined;
        },
        30_000,
        `all 40 notifications for ${org}`,
      );
      expect([...counts.values()]).toEqual(ids.map(() => 1));
    }
  }, 120_000);
});
