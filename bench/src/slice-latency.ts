// Measures the walking-skeleton slice against a running Samsyn: POST an initiative, then poll until the invited
// unit's notification is visible. Usage: npm run slice --workspace @samsyn/bench -- [--n 200] [--base URL]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    base: { type: 'string', default: 'http://localhost:8080' },
    'token-ward': { type: 'string' },
    'token-muni': { type: 'string' },
  },
});
const n = Number(values.n);
const base = values.base as string;
const ward = values['token-ward'] ?? process.env.TOKEN_WARD;
const muni = values['token-muni'] ?? process.env.TOKEN_MUNI;
if (!ward || !muni) {
  console.error(
    'Pass --token-ward and --token-muni (npm run token -- --org SE2321000032-1001 / SE2120000415-2001)',
  );
  process.exit(2);
}
const template = JSON.parse(
  readFileSync(new URL('../../docs/examples/sip-initiative.json', import.meta.url), 'utf8'),
);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const post: number[] = [];
const roundTrip: number[] = [];
for (let i = 0; i < n; i++) {
  const body = { ...template, identifier: [{ system: 'https://bench.example/sip', value: randomUUID() }] };
  const t0 = performance.now();
  const res = await fetch(`${base}/fhir/Task`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ward}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify(body),
  });
  const task = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`POST answered ${res.status}`);
  post.push(performance.now() - t0);
  for (;;) {
    const search = await fetch(`${base}/fhir/Communication?recipient=SE2120000415-2001&_count=1`, {
      headers: { authorization: `Bearer ${muni}` },
    });
    const bundle = (await search.json()) as { entry?: { resource: { about: { reference: string }[] } }[] };
    if (bundle.entry?.[0]?.resource.about.some((a) => a.reference === `Task/${task.id}`)) break;
    await new Promise((r) => setTimeout(r, 1));
  }
  roundTrip.push(performance.now() - t0);
}
post.sort((a, b) => a - b);
roundTrip.sort((a, b) => a - b);
const fmt = (xs: number[]) =>
  `p50 ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms`;
console.log(`${n} initiatives, one at a time`);
console.log(`  POST /fhir/Task              ${fmt(post)}`);
console.log(`  POST → notification visible ${fmt(roundTrip)}`);
