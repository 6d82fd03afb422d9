// The HTTP edge every service shares: trace ids and request logs, metrics, health endpoints, and a server that
// closes cleanly (stop accepting, finish in-flight requests, close idle keep-alive sockets).
import type { Server } from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { continueTrace } from './trace.ts';

export type RequestVariables = { traceId: string; traceparent: string; log: Logger };

/** Sets trace ids and a request-scoped logger, records latency and logs one line per request. */
export function observe(options: { service: string; log: Logger; metrics: Metrics }): MiddlewareHandler<{
  Variables: RequestVariables;
}> {
  return async (c, next) => {
    const started = performance.now();
    const trace = continueTrace(c.req.header('traceparent'));
    c.set('traceId', trace.traceId);
    c.set('traceparent', trace.traceparent);
    const log = options.log.child({ traceId: trace.traceId });
    c.set('log', log);
    c.header('traceparent', trace.traceparent);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = safeRoute(c);
    options.metrics.httpDuration.observe(
      { method: c.req.method, route, status: String(c.res.status), service: options.service },
      seconds,
    );
    log.info(
      { method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) },
      'request',
    );
  };
}

function safeRoute(c: Context): string {
  try {
    return routePath(c);
  } catch {
    return 'unmatched';
  }
}

export type ReadinessCheck = () => Promise<void>;

export interface HealthOptions {
  checks: Record<string, ReadinessCheck>;
  metrics: Metrics;
  /** False while shutting down, so the load balancer stops sending traffic first. */
  accepting: () => boolean;
}

/** /livez (process alive), /readyz (dependencies answer), /metrics (Prometheus). */
export function mountHealth(app: Hono, options: HealthOptions): void {
  app.get('/livez', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (!options.accepting()) return c.json({ status: 'shutting-down' }, 503);
    const results = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, (err as Error).message] as const;
        }
      }),
    );
    const ok = results.every(([, r]) => r === 'ok');
    return c.json({ status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(results) }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) =>
    c.body(await options.metrics.registry.metrics(), 200, {
      'content-type': options.metrics.registry.contentType,
    }),
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]);
}

export interface RunningServer {
  server: ServerType;
  port: number;
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then closes every socket. */
  close(graceMs?: number): Promise<void>;
}

export async function listen(app: Hono, options: { port: number; host?: string }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port, hostname: options.host ?? '0.0.0.0' },
      (info) => {
        resolve({
          server,
          port: info.port,
          close: (graceMs = 10_000) =>
            new Promise<void>((done) => {
              const http = server as Server;
              const timer = setTimeout(() => http.closeAllConnections?.(), graceMs);
              // A keep-alive socket that finishes its last request after close() would otherwise stay open until
              // the grace period ends (a proxy keeps its sockets): close each as soon as it is idle.
              const sweep = setInterval(() => http.closeIdleConnections?.(), 50);
              http.close(() => {
                clearTimeout(timer);
                clearInterval(sweep);
                done();
              });
              // Keep-alive sockets with no request in flight would hold close() open until they time out.
              http.closeIdleConnections?.();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
