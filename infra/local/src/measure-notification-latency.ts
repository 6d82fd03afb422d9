// `npm run measure:notification-latency -w @samsyn/local`: event → notification latency of the notification
// service against real PostgreSQL and NATS. Publishes sip.case.initiated at fixed rates and times each one until
// its notification is committed and pushed to open inboxes (the live ping sent after the commit).
// Env: DATABASE_URL (a user that may CREATE DATABASE), NATS_URL, RATES (per second, comma-separated), SECONDS.
import { randomBytes, randomUUID } from 'node:crypto';
import { Bus } from '@samsyn/bus';
import { events, toHeaders } from '@samsyn/contracts';
import { openPostgres } from '@samsyn/db';
import { createNotificationService } from '@samsyn/notification';
import { createLogger, processMetrics } from '@samsyn/platform';

const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const rates = (process.env.RATES ?? '5,50,200').split(',').map(Number);
const seconds = Number(process.env.SECONDS ?? '10');

const suffix = randomBytes(4).toString('hex');
const dbName = `samsyn_latency_${suffix}`;
const admin = openPostgres({ url: adminUrl, max: 1, applicationName: 'latency-admin' });
await admin.client.unsafe(`create database ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const database = openPostgres({ url: url.toString(), max: 10, applicationName: 'latency' });
const log = createLogger({ service: 'latency', level: 'warn' });
const namespace = `lat${suffix}`;
const bus = await Bus.connect({ servers: natsUrl, name: 'latency', namespace, log });
await bus.ensureStreams();
const service = await createNotificationService({ database, bus, log, metrics: processMetrics(), env: {} });
await service.migrate();
await service.start();

const sentAt = new Map<string, number>();
const latencies: number[] = [];
const decoder = new TextDecoder();
// Each event invites its own unit, so the unit in the live subject says which event it was.
const sub = bus.nc.subscribe(bus.naming.subject('samsyn.live.communication.>'), {
  callback: (_err, msg) => {
    const org = msg.subject.split('.').at(-1) ?? '';
    const started = sentAt.get(org);
    if (
      started !== undefined &&
      (JSON.parse(decoder.decode(msg.data)) as { change: string }).change === 'created'
    ) {
      latencies.push(performance.now() - started);
      sentAt.delete(org);
    }
  },
});
await bus.nc.flush();

let n = 0;
async function publishOne(): Promise<void> {
  n += 1;
  const org = `SE2120000415-L${suffix}${n}`;
  const id = randomUUID();
  const data = {
    caseId: randomUUID(),
    requesterOrg: 'SE2321000032-1001',
    trigger: 'other',
    initiatedAt: new Date().toISOString(),
    person: { ageBand: 'adult' },
    invitations: [{ invitationId: randomUUID(), org, kind: 'invited' }],
  };
  const headers = toHeaders({
    id,
    type: events.caseInitiated.type,
    source: '/samsyn/latency',
    time: new Date().toISOString(),
    subject: data.caseId,
  });
  headers['Nats-Msg-Id'] = id;
  sentAt.set(org, performance.now());
  await bus.publishRaw('sip.case.initiated', new TextEncoder().encode(JSON.stringify(data)), headers);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const results: string[] = [];
for (const rate of rates) {
  latencies.length = 0;
  sentAt.clear();
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void publishOne();
  }
  const deadline = performance.now() + 60_000;
  while (latencies.length < total && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const sorted = [...latencies].sort((a, b) => a - b);
  const line = `${rate}/s for ${seconds} s: ${sorted.length}/${total} notified, p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms`;
  console.log(line);
  results.push(line);
}

sub.unsubscribe();
await service.stop();
await bus.close();
await database.close();
await admin.client.unsafe(`drop database ${dbName} with (force)`);
await admin.close();
const jsm = await (await import('nats')).connect({ servers: natsUrl });
const manager = await jsm.jetstreamManager();
for await (const s of manager.streams.list()) {
  if (s.config.name.startsWith(`${namespace.toUpperCase()}_`)) await manager.streams.delete(s.config.name);
}
await jsm.close();
