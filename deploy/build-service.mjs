#!/usr/bin/env node
// Bundles one service into a self-contained dist/main.js: workspace packages (exported as .ts sources, see
// docs/decisions.md #2) are inlined; npm dependencies stay external and come from the image's production
// node_modules. The service's SQL migrations are copied beside the bundle, where `new URL('./db/migrations',
// import.meta.url)` finds them. Usage: `node deploy/build-service.mjs [serviceDir ...]` (default: cwd).
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Marks every bare import that is not a workspace package (@samsyn/*) as external. */
const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@samsyn/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** Builds `serviceDir`; returns the bundle's path. The output is deterministic for the same sources. */
export async function buildService(serviceDir) {
  const dir = resolve(serviceDir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const dist = join(dir, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const outfile = join(dist, 'main.js');
  await build({
    entryPoints: [join(dir, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    sourcemap: 'linked',
    // No timestamps or absolute paths in the output, so two builds of one commit are byte-identical.
    sourceRoot: '',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [externalNpm],
    banner: { js: `// ${pkg.name} ${pkg.version}, bundled by deploy/build-service.mjs` },
  });
  const migrations = join(dir, 'src', 'db', 'migrations');
  if (existsSync(migrations)) cpSync(migrations, join(dist, 'db', 'migrations'), { recursive: true });
  return outfile;
}

export const SERVICES = ['invitation', 'consent', 'notification', 'plan-store', 'statistics'];
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Builds every service (what the multi-process runner and its tests start). */
export async function buildAll() {
  return Promise.all(SERVICES.map((s) => buildService(join(REPO_ROOT, 'services', s))));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.slice(2);
  for (const d of dirs.length > 0 ? dirs : [process.cwd()]) {
    const out = await buildService(d);
    console.log(`built ${basename(resolve(d))} → ${out}`);
  }
}
