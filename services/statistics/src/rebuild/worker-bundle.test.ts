import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { bundledWorker } from './worker-bundle.ts';

/** Worker sources inside this package, where their imports resolve as the real workers' do. */
const dir = fileURLToPath(
  new URL(`../../node_modules/.cache/samsyn-worker-src-${process.pid}/`, import.meta.url),
);
await mkdir(dir, { recursive: true });
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The cache inside this package, where the bundles' npm imports resolve as the sources' do. */
const cache = new URL(`../../node_modules/.cache/samsyn-workers-test-${process.pid}/`, import.meta.url);
afterAll(() => rm(cache, { recursive: true, force: true }));

describe('bundledWorker', () => {
  it('bundles a worker module with its workspace imports into one file that a worker thread runs', async () => {
    const source = pathToFileURL(join(dir, 'echo-worker.ts'));
    // A workspace package (inlined) and an npm package (imported), both from TypeScript.
    await writeFile(
      source,
      `import { parentPort } from 'node:worker_threads';
       import { CE_SPECVERSION } from '@samsyn/contracts';
       import { z } from 'zod';
       const n: number = z.number().parse(41) + 1;
       parentPort?.postMessage(\`\${CE_SPECVERSION} \${n}\`);`,
    );
    const bundle = await bundledWorker(source, cache);
    expect(bundle?.href).toMatch(/\/echo-worker-[0-9a-f]{16}\.mjs$/);
    const worker = new Worker(bundle as URL);
    const said = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(said).toBe('1.0 42');
    // Asked again, the same file; the cache holds it once and nothing half-written.
    expect((await bundledWorker(source, cache))?.href).toBe(bundle?.href);
    expect(await readdir(cache)).toEqual([bundle?.href.split('/').pop()]);
  });

  it('gives undefined, for the boot file to be used, when the module cannot be bundled or kept', async () => {
    expect(await bundledWorker(pathToFileURL(join(dir, 'no-such-worker.ts')), cache)).toBeUndefined();
    const broken = pathToFileURL(join(dir, 'broken-worker.ts'));
    await writeFile(broken, 'export const = ;');
    expect(await bundledWorker(broken, cache)).toBeUndefined();
    // A cache that cannot be created (a file stands where its folder would be).
    await writeFile(join(dir, 'ok-worker.ts'), 'export {};');
    await writeFile(join(dir, 'not-a-folder'), '');
    const blocked = pathToFileURL(join(dir, 'not-a-folder/cache/'));
    expect(await bundledWorker(pathToFileURL(join(dir, 'ok-worker.ts')), blocked)).toBeUndefined();
    // The same module with a usable cache: it was the cache, not the module.
    expect(await bundledWorker(pathToFileURL(join(dir, 'ok-worker.ts')), cache)).toBeInstanceOf(URL);
  });
});
