// What the image holds is enough: a service's standalone dist/ (bundle, migrations, pruned node_modules), copied
// away from the repository, migrates and serves on its own, and carries no build or test tooling.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  natsUrl,
  type TestDatabase,
  testNamespace,
} from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The build script is plain JavaScript (it runs before any TypeScript tooling in the image build).
const { buildService } = (await import(join(ROOT, 'deploy', 'build-service.mjs'))) as {
  buildService(dir: string, options: { standalone: boolean; outDir: string }): Promise<string>;
};

let app: string;
let testDb: TestDatabase;
let namespace: string;
beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'samsyn-image-'));
  await buildService(join(ROOT, 'services', 'notification'), {
    standalone: true,
    outDir: join(app, 'services', 'notification', 'dist'),
  });
  testDb = await createTestDatabase('standalone');
  namespace = testNamespace('standalone');
}, 120_000);
afterAll(async () => {
  await testDb?.drop();
  await deleteNamespaceStreams(natsUrl(), namespace).catch(() => {});
  if (app) rmSync(app, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string>,
  until?: RegExp,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: join(app, 'services', 'notification'),
      // Only what the Deployment gives it: no NODE_PATH, no repository above it.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    });
    let out = '';
    let signalled = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (until?.test(out) && !signalled) {
        signalled = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('a service image', () => {
  it('holds no build or test tooling among its node_modules', () => {
    const modules = join(app, 'services', 'notification', 'dist', 'node_modules');
    expect(existsSync(join(modules, 'pino'))).toBe(true);
    for (const tool of [
      'vitest',
      'esbuild',
      'typescript',
      '@biomejs',
      'turbo',
      'testcontainers',
      'tsx',
      '@samsyn',
    ])
      expect(existsSync(join(modules, tool)), tool).toBe(false);
  });

  it('migrates with `node dist/main.js migrate`, then serves and drains on SIGTERM, from its dist/ alone', async () => {
    const env = {
      DATABASE_URL: testDb.url,
      NATS_URL: natsUrl(),
      NATS_NAMESPACE: namespace,
      AUTH_JWKS_URL: 'https://idp.example.se/.well-known/jwks.json',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: join(app, 'data'),
      PATIENT_KEY_SECRET: 'a-test-secret-of-sufficient-length',
    };
    const migrated = await run(['dist/main.js', 'migrate'], env);
    expect(migrated.out).toContain('migrations applied; exiting');
    expect(migrated.code).toBe(0);
    const served = await run(['dist/main.js'], env, /notification listening/);
    expect(served.out).toContain('shutdown complete');
    expect(served.code).toBe(0);
  }, 60_000);
});
