// Starts the one-machine Samsyn (all five services, one process, one port) as a child process against a fresh
// PostgreSQL database and its own NATS namespace, and mints tokens with its development key.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devKeyPath, loadOrCreateDevKey, mintToken } from '@samsyn/platform';
import postgres from 'postgres';

/**
 * The heap settings the all-in-one runs with (docs/operations.md): without a cap V8 lets the heap grow lazily to
 * ~600 MB under load, though what stays reachable is under 100 MB.
 */
export const HEAP_FLAGS = ['--max-old-space-size=192', '--max-semi-space-size=8'];

export interface SamsynProcess {
  base: string;
  /** The NATS namespace of its streams (NATS_NAMESPACE). */
  namespace: string;
  pid: number;
  databaseUrl: string;
  token(org: string): Promise<string>;
  /** Resident set size of the process now, in MB (from /proc). */
  rssMb(): number;
  stop(): Promise<void>;
}

export async function startSamsyn(options: {
  adminUrl: string;
  natsUrl: string;
  label: string;
  env?: Record<string, string>;
  /** bundle (default): infra/local/dist/all-in-one.js, built first, as it would run in production; tsx: the sources. */
  runtime?: 'bundle' | 'tsx';
  /** Node flags for the measured process; default HEAP_FLAGS. */
  nodeArgs?: string[];
}): Promise<SamsynProcess> {
  const dbName = `samsyn_bench_${options.label}_${process.pid}`;
  const admin = postgres(options.adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${dbName}`);
  await admin.unsafe(`create database ${dbName}`);
  await admin.end();
  const url = new URL(options.adminUrl);
  url.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'samsyn-bench-'));
  const namespace = `bench${options.label}${process.pid}`;
  const root = new URL('../../../', import.meta.url).pathname;
  const entry =
    options.runtime === 'tsx'
      ? ['--import', 'tsx', join(root, 'infra/local/src/all-in-one.ts')]
      : [join(root, 'infra/local/dist/all-in-one.js')];
  if (options.runtime !== 'tsx') execFileSync(process.execPath, [join(root, 'infra/local/build.mjs')]);
  const child: ChildProcess = spawn(
    process.execPath,
    // SAMSYN_BENCH_NODE_ARGS adds Node flags to the measured process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    [
      ...(options.nodeArgs ?? HEAP_FLAGS),
      ...(process.env.SAMSYN_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...entry,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        DATABASE_POOL_MAX: '20',
        NATS_URL: options.natsUrl,
        NATS_NAMESPACE: namespace,
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        AUTH_DEV_KEY: 'true',
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Samsyn did not start within 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`Samsyn exited with ${code}: ${stderr}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const m = /FHIR base\s+(http:\/\/[^/\s]+)\/fhir/.exec(chunk.toString());
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const key = await loadOrCreateDevKey(devKeyPath({ DATA_DIR: dataDir }));
  const tokens = new Map<string, Promise<string>>();
  return {
    base,
    namespace,
    pid: child.pid ?? 0,
    databaseUrl: url.toString(),
    token(org) {
      let t = tokens.get(org);
      if (!t) {
        t = mintToken(key, { org }, { issuer: 'samsyn-dev', audience: 'samsyn' });
        tokens.set(org, t);
      }
      return t;
    },
    rssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
      return Math.round(kb / 1024);
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
      rmSync(dataDir, { recursive: true, force: true });
      const cleanup = postgres(options.adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${dbName} with (force)`);
      await cleanup.end();
    },
  };
}
