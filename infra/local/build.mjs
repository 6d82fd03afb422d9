#!/usr/bin/env node
// Bundles the one-machine Samsyn (all five services in one process) into dist/all-in-one.js, as
// deploy/build-service.mjs does for each service: workspace packages inlined, npm packages external. Each service
// finds its migrations at `new URL('./db/migrations', import.meta.url)`; in one bundle those would all be the same
// folder, so each service's is copied to dist/<service>/db/migrations and its service.ts is pointed there.
// `node dist/all-in-one.js` then runs without tsx, as it would in production (smaller and faster to start).
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { externalNpm, REPO_ROOT, SERVICES } from '../../deploy/build-service.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = join(here, 'dist');

/** Points `new URL('./db/migrations', import.meta.url)` in services/<name>/src/service.ts at dist/<name>/db/migrations. */
const migrationsPerService = {
  name: 'migrations-per-service',
  setup(b) {
    b.onLoad({ filter: /services[/\\][^/\\]+[/\\]src[/\\]service\.ts$/ }, (args) => {
      const service = relative(join(REPO_ROOT, 'services'), args.path).split(sep)[0];
      const source = readFileSync(args.path, 'utf8');
      const marker = "new URL('./db/migrations', import.meta.url)";
      if (!source.includes(marker))
        throw new Error(`${args.path} does not locate its migrations as expected`);
      return {
        contents: source.replace(marker, `new URL('./${service}/db/migrations', import.meta.url)`),
        loader: 'ts',
      };
    });
  },
};

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(here, 'src', 'all-in-one.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: join(dist, 'all-in-one.js'),
  sourcemap: 'linked',
  sourceRoot: '',
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [migrationsPerService, externalNpm],
  banner: { js: '// @samsyn/local all-in-one, bundled by infra/local/build.mjs' },
});
for (const service of SERVICES) {
  cpSync(
    join(REPO_ROOT, 'services', service, 'src', 'db', 'migrations'),
    join(dist, service, 'db', 'migrations'),
    {
      recursive: true,
    },
  );
}
console.log(`built all-in-one → ${join(dist, 'all-in-one.js')}`);
