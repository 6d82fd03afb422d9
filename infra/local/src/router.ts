// The one-machine stand-in for the Kubernetes Ingress: /fhir/<Type> goes to the service that declares <Type> in its
// CapabilityStatement, /fhir/metadata is the union of all of them, and health answers for the whole set.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Upstream {
  name: string;
  url: string;
}

export interface RunningRouter {
  url: string;
  port: number;
  /** Resource type → owning service name, as the services declared it. */
  routes: Map<string, string>;
  close(): Promise<void>;
}

interface Capability {
  resourceType: 'CapabilityStatement';
  rest?: { resource?: { type: string }[] }[];
}

/** Types every service serves itself (shared code systems); any upstream may answer them. */
const SHARED_TYPES = new Set(['CodeSystem']);

/** Asks every upstream for its CapabilityStatement and builds the route table; two owners of one type is an error. */
export async function routeTable(
  upstreams: Upstream[],
): Promise<{ routes: Map<string, string>; metadata: Capability }> {
  const routes = new Map<string, string>();
  let merged: Capability | undefined;
  const seen = new Set<string>();
  for (const upstream of upstreams) {
    const res = await fetch(`${upstream.url}/fhir/metadata`);
    if (!res.ok) throw new Error(`${upstream.name}: /fhir/metadata answered ${res.status}`);
    const cs = (await res.json()) as Capability;
    const resources = cs.rest?.[0]?.resource ?? [];
    for (const r of resources) {
      if (SHARED_TYPES.has(r.type)) continue;
      const owner = routes.get(r.type);
      if (owner && owner !== upstream.name)
        throw new Error(`${r.type} is declared by both ${owner} and ${upstream.name}`);
      routes.set(r.type, upstream.name);
    }
    if (!merged) {
      merged = structuredClone(cs);
      merged.rest = [{ ...(merged.rest?.[0] ?? {}), resource: [] }];
    }
    for (const r of resources) {
      if (seen.has(r.type)) continue;
      seen.add(r.type);
      merged.rest?.[0]?.resource?.push(r);
    }
  }
  if (!merged) throw new Error('no upstreams');
  return { routes, metadata: merged };
}

export async function startRouter(options: { port: number; upstreams: Upstream[] }): Promise<RunningRouter> {
  const { routes, metadata } = await routeTable(options.upstreams);
  const byName = new Map(options.upstreams.map((u) => [u.name, u]));
  const first = options.upstreams[0] as Upstream;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/fhir/metadata' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/fhir+json; charset=utf-8' });
      res.end(JSON.stringify(metadata));
      return;
    }
    if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      void readiness(options.upstreams).then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
      return;
    }
    const type = /^\/fhir\/([A-Z][A-Za-z]+)/.exec(path)?.[1];
    const owner = type ? (SHARED_TYPES.has(type) ? first.name : routes.get(type)) : undefined;
    const upstream = owner ? byName.get(owner) : undefined;
    if (!upstream) {
      res.writeHead(404, { 'content-type': 'application/fhir+json; charset=utf-8' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'not-supported',
              diagnostics: `No service serves ${path}; resource types: ${[...routes.keys()].sort().join(', ')}`,
            },
          ],
        }),
      );
      return;
    }
    proxy(req, res, upstream.url);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, '127.0.0.1', () => done());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    routes,
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

async function readiness(upstreams: Upstream[]): Promise<[number, object]> {
  const checks = await Promise.all(
    upstreams.map(async (u) => {
      try {
        const res = await fetch(`${u.url}/readyz`, { signal: AbortSignal.timeout(2500) });
        return [u.name, res.status === 200 ? 'ok' : `readyz ${res.status}`] as const;
      } catch (err) {
        return [u.name, (err as Error).message] as const;
      }
    }),
  );
  const ok = checks.every(([, s]) => s === 'ok');
  return [ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks: Object.fromEntries(checks) }];
}

function proxy(req: IncomingMessage, res: ServerResponse, target: string): void {
  const url = new URL(req.url ?? '/', target);
  const upstream = httpRequest(
    url,
    {
      method: req.method,
      headers: {
        ...req.headers,
        'x-forwarded-host': req.headers.host ?? '',
        'x-forwarded-proto': 'http',
      },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    // The owner is down (e.g. restarting): answer like a gateway, so the client retries instead of hanging.
    if (!res.headersSent) {
      res.writeHead(503, { 'content-type': 'application/fhir+json; charset=utf-8', 'retry-after': '1' });
      res.end(
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [
            { severity: 'error', code: 'transient', diagnostics: `upstream unavailable: ${err.message}` },
          ],
        }),
      );
    } else res.destroy(err);
  });
  req.pipe(upstream);
}
