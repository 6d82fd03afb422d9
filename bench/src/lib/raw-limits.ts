// The machine's own ceilings, measured in the same run as the scenarios so results can be stated as ratios:
// PostgreSQL single-row insert transactions/s (postgres.js), JetStream publishes/s, Hono hello-world requests/s.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type JetStreamManager } from 'nats';
import postgres from 'postgres';
import { closedLoop, http, type Sample } from './load.ts';

export interface RawLimits {
  postgresInsertTxPerSecond: Sample;
  jetstreamPublishPerSecond: number;
  honoHelloWorld: Sample;
}

/** Single-row INSERTs, each its own transaction, from `concurrency` clients over a pool of 16 connections. */
export async function postgresInserts(adminUrl: string, seconds: number, concurrency = 64): Promise<Sample> {
  const name = `samsyn_bench_raw_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name}`);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 16, onnotice: () => {} });
  try {
    await sql`create table event (id bigserial primary key, case_id uuid not null, body jsonb not null, at timestamptz not null default now())`;
    const body = { type: 'se.samsyn.case.initiated.v1', orgs: ['SE2120000415-2001', 'SE2120000415-3001'] };
    return await closedLoop(seconds, concurrency, async () => {
      await sql`insert into event (case_id, body) values (${crypto.randomUUID()}, ${sql.json(body)})`;
    });
  } finally {
    await sql.end();
    await admin.unsafe(`drop database if exists ${name}`);
    await admin.end();
  }
}

/** Async JetStream publishes in windows of 1,000 (the way the outbox relay publishes), ~600-byte events. */
export async function jetstreamPublishes(natsUrl: string, seconds: number): Promise<number> {
  const nc = await connect({ servers: natsUrl, name: 'samsyn-bench-raw' });
  const stream = `BENCH_RAW_${process.pid}`;
  const subject = `bench.${process.pid}.published`;
  let jsm: JetStreamManager | undefined;
  try {
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const js = nc.jetstream();
    const payload = new TextEncoder().encode(JSON.stringify({ data: 'x'.repeat(560) }));
    let sent = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    while (performance.now() < end) {
      const window = Array.from({ length: 1000 }, () => js.publish(subject, payload));
      await Promise.all(window);
      sent += window.length;
    }
    return Math.round(sent / ((performance.now() - start) / 1000));
  } finally {
    await jsm?.streams.delete(stream).catch(() => {});
    await nc.close();
  }
}

const HELLO = `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
const app = new Hono();
app.get('/', (c) => c.json({ hello: 'world' }));
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log('PORT ' + info.port));
`;

/** Hono hello-world in its own process (as Samsyn runs), loaded from this one. */
export async function honoHelloWorld(seconds: number, concurrency = 64): Promise<Sample> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', HELLO], {
    cwd: new URL('../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`hello-world server exited with ${code}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        const m = /PORT (\d+)/.exec(chunk.toString());
        if (m) resolve(Number(m[1]));
      });
    });
    const client = http(`http://127.0.0.1:${port}`, concurrency);
    try {
      return await closedLoop(seconds, concurrency, async () => {
        const res = await client.request('GET', '/', undefined);
        if (res.status !== 200) throw new Error(`hello world answered ${res.status}`);
      });
    } finally {
      await client.close();
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => {});
  }
}
