// Runs the five services as separate processes (the built dist bundles, exactly what the images run) against one
// PostgreSQL and one NATS, behind a small router that sends /fhir/<Type> to the service that owns <Type>.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devKeyPath, loadOrCreateDevKey } from '@samsyn/platform';
import { type RunningRouter, startRouter } from './router.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** The services in start order, with the port each gets by default (base port + index). */
export const SERVICE_NAMES = ['invitation', 'consent', 'notification', 'plan-store', 'statistics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ProcessesOptions {
  databaseUrl: string;
  natsUrl: string;
  /** Holds the shared development signing key (created once here, before any service reads it). */
  dataDir: string;
  namespace?: string;
  /** Service i listens on basePort + 1 + i; 0 picks free ports. The router listens on routerPort. */
  basePort?: number;
  routerPort?: number;
  authIssuer?: string;
  authAudience?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Receives every log line of every service (JSON, as in production). */
  onLog?: (service: ServiceName, line: string) => void;
  shutdownGraceSeconds?: number;
}

export interface ServiceProcess {
  name: ServiceName;
  port: number;
  url: string;
  /** The running child, if any. */
  child(): ChildProcess | undefined;
  /** Every log line this service wrote (stdout and stderr), across restarts. */
  lines: string[];
  /** Starts the service (again) and waits until /readyz answers 200. */
  start(): Promise<void>;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface RunningProcesses {
  services: Record<ServiceName, ServiceProcess>;
  router: RunningRouter;
  stop(): Promise<void>;
}

/** What each service's image runs, in the service's folder (deploy/Dockerfile CMD; its test holds them equal). */
export const SERVICE_COMMAND = ['node', 'dist/main.js'] as const;
/** The migration Job's command (deploy/base/migrate-job.yaml). */
export const MIGRATE_COMMAND = [...SERVICE_COMMAND, 'migrate'] as const;

export function serviceDir(name: ServiceName): string {
  return join(REPO_ROOT, 'services', name);
}

export function bundlePath(name: ServiceName): string {
  return join(serviceDir(name), SERVICE_COMMAND[1]);
}

/** `node dist/main.js migrate` for every service, one after the other (the Kubernetes migration Job). */
export async function migrateAll(env: Record<string, string>): Promise<void> {
  for (const name of SERVICE_NAMES) {
    const code = await new Promise<number | null>((done, fail) => {
      // `node` is this very Node.js, so the runner and its tests use the version they run under.
      const child = spawn(process.execPath, MIGRATE_COMMAND.slice(1), {
        cwd: serviceDir(name),
        env: { ...env, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', fail);
      child.once('exit', done);
    });
    if (code !== 0) throw new Error(`${name}: migrate exited with code ${code}`);
  }
}

export async function startProcesses(options: ProcessesOptions): Promise<RunningProcesses> {
  for (const name of SERVICE_NAMES) {
    if (!existsSync(bundlePath(name)))
      throw new Error(`${bundlePath(name)} is missing: run \`npm run build\` first`);
  }
  // Created before the services start, so five processes never race to create it.
  await loadOrCreateDevKey(devKeyPath({ DATA_DIR: options.dataDir }));
  const common: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    DATABASE_POOL_MAX: '5',
    NATS_URL: options.natsUrl,
    NATS_NAMESPACE: options.namespace ?? '',
    DATA_DIR: options.dataDir,
    AUTH_DEV_KEY: 'true',
    AUTH_ISSUER: options.authIssuer ?? 'samsyn-dev',
    AUTH_AUDIENCE: options.authAudience ?? 'samsyn',
    SHUTDOWN_GRACE_SECONDS: String(options.shutdownGraceSeconds ?? 20),
    ...options.env,
  };
  await migrateAll(common);
  const services = {} as Record<ServiceName, ServiceProcess>;
  const base = options.basePort ?? 0;
  for (const [i, name] of SERVICE_NAMES.entries()) {
    services[name] = serviceProcess(name, base === 0 ? 0 : base + 1 + i, common, options.onLog);
  }
  await Promise.all(Object.values(services).map((s) => s.start()));
  const router = await startRouter({
    port: options.routerPort ?? base,
    upstreams: Object.values(services).map((s) => ({ name: s.name, url: s.url })),
  });
  return {
    services,
    router,
    async stop() {
      await router.close();
      await Promise.all(Object.values(services).map((s) => s.stop('SIGTERM')));
    },
  };
}

function serviceProcess(
  name: ServiceName,
  requestedPort: number,
  env: Record<string, string>,
  onLog: ProcessesOptions['onLog'],
): ServiceProcess {
  let child: ChildProcess | undefined;
  let port = requestedPort;
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        onLog?.(name, line);
      }
    });
  };
  const self: ServiceProcess = {
    name,
    get port() {
      return port;
    },
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    child: () => child,
    lines,
    async start() {
      const from = lines.length;
      const c = spawn(process.execPath, SERVICE_COMMAND.slice(1), {
        cwd: serviceDir(name),
        env: { ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      collect(c.stdout);
      collect(c.stderr);
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (c.exitCode !== null)
          throw new Error(`${name} exited with ${c.exitCode} at start:\n${lines.slice(from).join('\n')}`);
        // The first start with port 0 learns the port from the "listening" log line, then keeps it on restarts.
        if (port === 0) port = listeningPort(lines.slice(from)) ?? 0;
        if (port !== 0 && (await ready(`http://127.0.0.1:${port}`))) return;
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`${name} not ready within 30 s:\n${lines.slice(from).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
      return new Promise((done) => {
        c.once('exit', (code) => done(code));
        c.kill(signal);
      });
    },
  };
  return self;
}

function listeningPort(lines: string[]): number | undefined {
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { port?: number; msg?: string };
      if (entry.msg?.endsWith('listening') && entry.port) return entry.port;
    } catch {
      // not a JSON log line
    }
  }
  return undefined;
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}
