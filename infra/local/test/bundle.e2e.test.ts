// The bundled all-in-one (infra/local/build.mjs → dist/all-in-one.js, what the benchmark measures) migrates every
// service from its own copy of the migrations, starts without tsx, and carries an initiative through to the inboxes.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devKeyPath, loadOrCreateDevKey, mintToken } from '@samsyn/platform';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  eventually,
  natsUrl,
  ORGS,
  sipInitiative,
  type TestDatabase,
  testNamespace,
} from '@samsyn/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SERVICE_NAMES } from '../src/processes.ts';

let testDb: TestDatabase;
let namespace: string;
let dataDir: string;
let child: ChildProcess;
let base: string;

beforeAll(async () => {
  execFileSync(process.execPath, [join(REPO_ROOT, 'infra', 'local', 'build.mjs')], { stdio: 'pipe' });
  testDb = await createTestDatabase('bundle');
  namespace = testNamespace('bundle');
  dataDir = mkdtempSync(join(tmpdir(), 'samsyn-bundle-'));
  child = spawn(process.execPath, [join(REPO_ROOT, 'infra', 'local', 'dist', 'all-in-one.js')], {
    cwd: tmpdir(), // not the repository: the bundle finds its migrations beside itself
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: testDb.url,
      NATS_URL: natsUrl(),
      NATS_NAMESPACE: namespace,
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      AUTH_DEV_KEY: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bundle did not start: ${output}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`the bundle exited with ${code}: ${output}`)));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /FHIR base\s+(http:\/\/[^/\s]+)\/fhir/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  await testDb?.drop();
  await deleteNamespaceStreams(natsUrl(), namespace).catch(() => {});
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the bundled all-in-one', () => {
  it('applies every service’s own migrations', async () => {
    const sql = postgres(testDb.url, { max: 1, onnotice: () => {} });
    try {
      for (const service of SERVICE_NAMES) {
        const schema = service.replace('-', '_');
        const [row] = await sql`select count(*)::int as n from ${sql(`samsyn_migrations`)}.${sql(schema)}`;
        const files = readdirSync(join(REPO_ROOT, 'services', service, 'src', 'db', 'migrations')).filter(
          (f) => f.endsWith('.sql'),
        );
        expect(row?.n, service).toBe(files.length);
      }
    } finally {
      await sql.end();
    }
  });

  it('takes an initiative and notifies each invited unit', async () => {
    const key = await loadOrCreateDevKey(devKeyPath({ DATA_DIR: dataDir }));
    const settings = { issuer: 'samsyn-dev', audience: 'samsyn' };
    const ward = await mintToken(key, { org: ORGS.regionWard }, settings);
    const res = await fetch(`${base}/fhir/Task`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ward}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(sipInitiative({ identifier: 'bundle-1' })),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const homeCare = await mintToken(key, { org: ORGS.municipalityHomeCare }, settings);
    await eventually(
      async () => {
        const inbox = await fetch(`${base}/fhir/Communication?recipient=${ORGS.municipalityHomeCare}`, {
          headers: { authorization: `Bearer ${homeCare}` },
        });
        return (await inbox.text()).includes(`Task/${id}`) ? true : undefined;
      },
      15_000,
      'the invited unit’s notification',
    );
  });
});
