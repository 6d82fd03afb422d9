// A real FHIR server for tests that push to a record system: Medplum's FhirRouter over its MemoryRepository, served
// over HTTP — and a peer that fails, counting what it was sent.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getStatus } from '@medplum/core';
import { FhirRouter, type HttpMethod, MemoryRepository } from '@medplum/fhir-router';

export interface FhirPeer {
  url: string;
  repo: MemoryRepository;
  /** Requests received, by method and path. */
  requests: string[];
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
}

function closer(server: Server) {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** A peer record system's FHIR endpoint: Medplum's router and in-memory repository, over HTTP. */
export async function startFhirPeer(): Promise<FhirPeer> {
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    const path = url.pathname.replace(/^\/fhir/, '');
    requests.push(`${req.method} ${path}`);
    const [outcome, resource] = await router.handleRequest(
      {
        method: req.method as HttpMethod,
        url: path + url.search,
        pathname: '',
        body: await bodyOf(req),
        params: {},
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
      },
      repo,
    );
    // fhir-router bundles its own copy of @medplum/fhirtypes; the shapes are the same.
    res.writeHead(getStatus(outcome as Parameters<typeof getStatus>[0]), {
      'content-type': 'application/fhir+json',
    });
    res.end(JSON.stringify(resource ?? outcome));
  });
  return { url: await listen(server), repo, requests, close: closer(server) };
}

/** A peer that answers every request with `status` (a record system that is down or refuses). */
export async function startFailingPeer(status: number): Promise<Omit<FhirPeer, 'repo'>> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://peer').pathname}`);
    req.resume();
    res.writeHead(status, { 'content-type': 'application/fhir+json' });
    res.end(
      JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'transient', diagnostics: 'down for maintenance' }],
      }),
    );
  });
  return { url: await listen(server), requests, close: closer(server) };
}
