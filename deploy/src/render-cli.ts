// `npm run render -w @samsyn/deploy -- deploy/overlays/production`: prints the rendered YAML (what kubectl kustomize
// would print), for review or for `kubectl apply -f -` where kubectl has no kustomize.
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { render } from './kustomize.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: render <kustomization folder>');
  process.exit(2);
}
const objects = render(resolve(process.env.INIT_CWD ?? process.cwd(), dir));
process.stdout.write(objects.map((o) => stringify(o)).join('---\n'));
