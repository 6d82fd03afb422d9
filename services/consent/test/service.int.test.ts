// The consent service boots against real PostgreSQL and NATS: its own schema, its stream, ready for traffic.
import type { CapabilityStatement } from '@samsyn/fhir';
import { assertValidFhir, type Harness, startHarness } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsentService } from '../src/service.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'consent', factories: [createConsentService] });
});
afterAll(async () => h?.stop());

describe('the consent service', () => {
  it('migrates into its own schema and nothing else', async () => {
    const rows = (await h.database.db.execute(
      sql`select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog','information_schema') order by 1, 2`,
    )) as unknown as { table_schema: string; table_name: string }[];
    const schemas = new Set(rows.map((r) => r.table_schema));
    expect([...schemas].sort()).toEqual(['consent', 'samsyn_migrations'].sort());
    expect(rows.filter((r) => r.table_schema === 'consent').map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'audit_event',
        'case_invitee',
        'consent',
        'consent_version',
        'inbox',
        'outbox',
        'sip_case',
      ]),
    );
  });

  it('migrates again without change when a second replica starts', async () => {
    await expect(h.services[0]?.migrate()).resolves.toBeUndefined();
  });

  it('reports ready once its database and NATS answer', async () => {
    const res = await h.request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks['consent-database']).toBe('ok');
    expect(body.checks.nats).toBe('ok');
  });

  it('declares Consent and AuditEvent with their search parameters in the CapabilityStatement', async () => {
    const res = await h.request('/fhir/metadata');
    const statement = (await res.json()) as CapabilityStatement;
    assertValidFhir(statement);
    const resources = statement.rest?.[0]?.resource ?? [];
    const consent = resources.find((r) => r.type === 'Consent');
    expect(consent?.interaction?.map((i) => i.code).sort()).toEqual([
      'create',
      'read',
      'search-type',
      'update',
      'vread',
    ]);
    expect(consent?.searchParam?.map((p) => p.name).sort()).toEqual(['_lastUpdated', 'patient', 'status']);
    const audit = resources.find((r) => r.type === 'AuditEvent');
    expect(audit?.interaction?.map((i) => i.code).sort()).toEqual(['read', 'search-type']);
    expect(audit?.searchParam?.map((p) => p.name).sort()).toEqual([
      'action',
      'agent',
      'date',
      'entity',
      'patient',
    ]);
  });
});
