// The plan-store settings: endpoints from JSON or a file, and a bad value stops the boot naming the variable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@samsyn/platform';
import { describe, expect, it } from 'vitest';
import { planStoreConfigSchema } from './config.ts';

const load = (env: Record<string, string>) => loadConfig(planStoreConfigSchema, env);

describe('the plan-store configuration', () => {
  it('reads endpoints as URLs or as { url, bearerToken }, and a file that overrides them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-endpoints-'));
    const file = join(dir, 'endpoints.json');
    writeFileSync(
      file,
      JSON.stringify({ 'SE2120000415-2001': { url: 'https://kommun.example/fhir', bearerToken: 't' } }),
    );
    const config = load({
      PLAN_ENDPOINTS: JSON.stringify({
        'SE2321000032-1001': 'https://region.example/fhir',
        'SE2120000415-2001': 'https://old.example/fhir',
      }),
      PLAN_ENDPOINTS_FILE: file,
      PLAN_PUSH_BACKOFF_MS: '100,200',
    });
    expect(config.endpoints).toEqual({
      'SE2321000032-1001': { url: 'https://region.example/fhir' },
      'SE2120000415-2001': { url: 'https://kommun.example/fhir', bearerToken: 't' },
    });
    expect(config.PLAN_PUSH_BACKOFF_MS).toEqual([100, 200]);
    expect(load({}).endpoints).toEqual({});
  });

  it('stops the boot with a message naming what is wrong', () => {
    expect(() => load({ PLAN_ENDPOINTS: '{not json' })).toThrow(/PLAN_ENDPOINTS: is not JSON/);
    expect(() => load({ PLAN_ENDPOINTS: JSON.stringify({ 'not-an-hsa-id': 'https://x.example' }) })).toThrow(
      /HSA-id/,
    );
    expect(() => load({ PLAN_ENDPOINTS: JSON.stringify({ 'SE2321000032-1001': 'not a url' }) })).toThrow(
      /PLAN_ENDPOINTS/,
    );
    expect(() => load({ PLAN_ENDPOINTS_FILE: '/nonexistent/endpoints.json' })).toThrow(
      /PLAN_ENDPOINTS_FILE: cannot be read/,
    );
    expect(() => load({ PLAN_PUSH_BACKOFF_MS: 'soon' })).toThrow(/PLAN_PUSH_BACKOFF_MS/);
    expect(() => load({ PLAN_PUSH_MAX_ATTEMPTS: '0' })).toThrow(/PLAN_PUSH_MAX_ATTEMPTS/);
  });
});
