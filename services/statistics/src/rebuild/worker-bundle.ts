// The rebuild's worker threads start from their TypeScript modules bundled into one plain ES module each. Through
// tsx's loader (the boot files) a worker took ~0.4 s and ~0.5 CPU-s to load its modules, one round trip to the
// loader's thread per module, on the two cores the rebuild needs for its work; bundled, ~0.15 s. Only the rebuild
// imports this file: the service itself, and its production bundle, never load esbuild.
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where bundles are kept, by content: resolving their npm imports from here finds what the sources find. */
const CACHE = new URL('../../node_modules/.cache/samsyn-workers/', import.meta.url);

const bundles = new Map<string, Promise<URL | undefined>>();

/**
 * The bundle of the worker module `source` (the workspace's packages inlined, npm packages imported from
 * node_modules), built once per process and kept on disk by its content; undefined if it cannot be built or written,
 * and the caller then starts the worker through its boot file.
 */
export function bundledWorker(source: URL, cache: URL = CACHE): Promise<URL | undefined> {
  const key = `${source.href} ${cache.href}`;
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundle_(source, cache).catch(() => undefined);
    bundles.set(key, bundle);
  }
  return bundle;
}

async function bundle_(source: URL, cache: URL): Promise<URL> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(source)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'npm-external',
        setup(b) {
          // Bare imports that are not workspace packages (@samsyn/*, shipped as TypeScript) stay imports.
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@samsyn/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  const code = result.outputFiles?.[0]?.contents;
  if (!code) throw new Error(`esbuild wrote no bundle for ${source.href}`);
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const target = new URL(`${basename(fileURLToPath(source), '.ts')}-${hash}.mjs`, cache);
  const exists = await stat(target).then(
    (s) => s.size === code.byteLength,
    () => false,
  );
  if (!exists) {
    await mkdir(cache, { recursive: true });
    // Written under a name of its own and renamed: another process may be writing or loading the same bundle.
    const partial = new URL(`${basename(fileURLToPath(target))}.${process.pid}.${Date.now()}.tmp`, cache);
    await writeFile(partial, code);
    await rename(partial, target);
  }
  return target;
}
