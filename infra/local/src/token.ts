// `npm run token -- --org <HSA-id> [--user <HSA-id>] [--scope "..."] [--principal <id>] [--expires 12h]`: prints a development JWT.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHsaId } from '@samsyn/fhir';
import { baseConfigSchema, devKeyPath, loadConfig, loadOrCreateDevKey, mintToken } from '@samsyn/platform';

const { values } = parseArgs({
  options: {
    org: { type: 'string' },
    user: { type: 'string' },
    principal: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    expires: { type: 'string', default: '12h' },
  },
});
const org = values.org ?? 'SE2321000032-1001';
const checked = checkHsaId(org);
if (!checked.ok) {
  console.error(`--org: ${checked.reason}`);
  process.exit(2);
}
if (values.user && !checkHsaId(values.user).ok) {
  console.error('--user must be an HSA-id such as SE2321000032-9001');
  process.exit(2);
}
const config = loadConfig(baseConfigSchema, {
  ...process.env,
  DATA_DIR: resolve(process.env.INIT_CWD ?? process.cwd(), process.env.DATA_DIR ?? '.data'),
});
const key = await loadOrCreateDevKey(devKeyPath(config));
const token = await mintToken(
  key,
  {
    org,
    ...(values.user ? { user: values.user } : {}),
    ...(values.principal ? { principal: values.principal } : {}),
    ...(values.name ? { name: values.name } : {}),
    ...(values.scope ? { scopes: values.scope.split(/\s+/) } : {}),
    expiresIn: values.expires,
  },
  { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE },
);
console.log(token);
