#!/usr/bin/env node
// Architecture check run by `npm run lint`: no service imports or depends on another service, and no package
// imports or depends on a service (STYLE.md: share through a package or an event instead).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const services = readdirSync(join(root, 'services')).filter((d) =>
  statSync(join(root, 'services', d)).isDirectory(),
);
const packages = readdirSync(join(root, 'packages')).filter((d) =>
  statSync(join(root, 'packages', d)).isDirectory(),
);
const serviceNames = new Set(services.map((s) => `@samsyn/${s}`));
const problems = [];

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(entry.name)) yield path;
  }
}

const IMPORT_RE = /(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)['"]([^'"]+)['"]/g;

function check(kind, name, dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const dep of Object.keys(pkg[field] ?? {})) {
      if (serviceNames.has(dep) && dep !== `@samsyn/${name}`) {
        problems.push(`${kind} ${name} lists service ${dep} in ${field}`);
      }
    }
  }
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1];
      const target = spec.startsWith('.') ? resolve(file, '..', spec) : undefined;
      const viaPath = target && relative(join(root, 'services'), target).split('/')[0];
      const viaName = [...serviceNames].find((s) => spec === s || spec.startsWith(`${s}/`));
      const other =
        viaName?.slice('@samsyn/'.length) ?? (viaPath && services.includes(viaPath) ? viaPath : undefined);
      if (other && !(kind === 'service' && other === name)) {
        problems.push(`${relative(root, file)} imports service ${other} ('${spec}')`);
      }
    }
  }
}

for (const s of services) check('service', s, join(root, 'services', s));
for (const p of packages) check('package', p, join(root, 'packages', p));

if (problems.length > 0) {
  console.error('Architecture boundaries broken: share through a package or an event instead.');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`boundaries: ${services.length} services and ${packages.length} packages import no service`);
