#!/usr/bin/env node
// Bundles one service into a self-contained dist/main.js: workspace packages (exported as .ts sources, see
// docs/decisions.md #2) are inlined; npm dependencies stay external and come from the image's production
// node_modules. The service's SQL migrations are copied beside the bundle, where `new URL('./db/migrations',
// import.meta.url)` finds them. With --standalone (the image build) the npm packages the bundle imports, and what
// they need, are copied from the lockfile-installed node_modules into dist/node_modules: dist/ alone then runs.
// Usage: `node deploy/build-service.mjs [--standalone] [serviceDir ...]` (default: cwd).
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Marks every bare import that is not a workspace package (@samsyn/*) as external. */
export const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@samsyn/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Where Node would find `name` from inside the package folder `from` (nested node_modules first, then up). */
function resolvePackage(name, from, root) {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

/**
 * Copies the packages `names` and everything they depend on (dependencies, optional and peer dependencies that are
 * installed) from the repository's node_modules into `target`, keeping the layout Node resolves. Returns the names.
 */
export function copyRuntimePackages(names, root, target) {
  const copied = new Map();
  const visit = (name, from) => {
    const source = resolvePackage(name, from, root);
    if (!source) return;
    const relative = source.slice(root.length + 1);
    if (copied.has(relative)) return;
    copied.set(relative, name);
    const pkg = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8'));
    const deps = { ...pkg.peerDependencies, ...pkg.optionalDependencies, ...pkg.dependencies };
    for (const dep of Object.keys(deps)) visit(dep, source);
  };
  for (const name of names) visit(name, root);
  for (const relative of [...copied.keys()].sort()) {
    // Nested node_modules are copied with their parent only if the parent needs them (visited above).
    cpSync(join(root, relative), join(target, relative), {
      recursive: true,
      dereference: true,
      filter: (src) => !src.slice(join(root, relative).length).includes('/node_modules/'),
    });
  }
  return [...new Set(copied.values())].sort();
}

/** Builds `serviceDir`; returns the bundle's path. The output is deterministic for the same sources. */
export async function buildService(serviceDir, options = {}) {
  const dir = resolve(serviceDir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const dist = resolve(options.outDir ?? join(dir, 'dist'));
  rmSync(dist, { recursive: true, force: true });
  const outfile = join(dist, 'main.js');
  const result = await build({
    metafile: true,
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
  if (options.standalone) {
    const externals = new Set();
    for (const output of Object.values(result.metafile.outputs))
      for (const i of output.imports)
        if (i.external && !i.path.startsWith('node:')) externals.add(packageName(i.path));
    copyRuntimePackages([...externals].sort(), REPO_ROOT, dist);
  }
  return outfile;
}

export const SERVICES = ['invitation', 'consent', 'notification', 'plan-store', 'statistics'];
export const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Builds every service (what the multi-process runner and its tests start). */
export async function buildAll(options = {}) {
  return Promise.all(SERVICES.map((s) => buildService(join(REPO_ROOT, 'services', s), options)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const standalone = args.includes('--standalone');
  const dirs = args.filter((a) => a !== '--standalone');
  for (const d of dirs.length > 0 ? dirs : [process.cwd()]) {
    const out = await buildService(d, { standalone });
    console.log(`built ${basename(resolve(d))} → ${out}`);
  }
}
