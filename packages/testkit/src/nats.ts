// NATS helpers for tests: a namespace per test file, and a private nats-server that a test may stop and start.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type JetStreamManager } from 'nats';
import { inject } from 'vitest';
import './provided.ts';

/** A subject/stream namespace unique to one test file, so files never see each other's events. */
export function testNamespace(label = 't'): string {
  return `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}${randomBytes(4).toString('hex')}`;
}

export function natsUrl(): string {
  return inject('natsUrl');
}

/** Deletes every stream whose name starts with the namespace (uppercased, as the bus names them). */
export async function deleteNamespaceStreams(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm: JetStreamManager = await nc.jetstreamManager();
    const prefix = `${namespace.toUpperCase()}_`;
    for await (const si of jsm.streams.list()) {
      // KV_<prefix>…: the key-value buckets of the namespace (e.g. the services' announcements).
      if (si.config.name.startsWith(prefix) || si.config.name.startsWith(`KV_${prefix}`))
        await jsm.streams.delete(si.config.name);
    }
  } finally {
    await nc.close();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface PrivateNats {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A nats-server of the test's own (same port and store across restarts), for tests that take the broker away.
 * Needs the `nats-server` binary on PATH.
 */
export async function privateNatsServer(): Promise<PrivateNats> {
  const which = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new Error('This test needs the nats-server binary on PATH: apt-get install -y nats-server');
  }
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'samsyn-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const api: PrivateNats = {
    url,
    async start() {
      child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], {
        stdio: 'ignore',
      });
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
          await nc.jetstreamManager();
          await nc.close();
          return;
        } catch (err) {
          if (Date.now() > deadline)
            throw new Error(`private nats-server did not start: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
    async dispose() {
      await api.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await api.start();
  return api;
}
