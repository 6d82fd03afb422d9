// The plan-store service boots against real PostgreSQL and NATS: its own schema, its stream, ready for traffic.
import { type Harness, startHarness } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanStoreService } from '../src/service.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ label: 'plan_store', factories: [createPlanStoreService] });
});
afterAll(async () => h?.stop());

describe('the plan-store service', () => {
  it('migrates into its own schema and nothing else', async () => {
    const rows = (await h.database.db.execute(
      sql`select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog','information_schema') order by 1, 2`,
    )) as unknown as { table_schema: string; table_name: string }[];
    const schemas = new Set(rows.map((r) => r.table_schema));
    expect([...schemas].sort()).toEqual(['plan_store', 'samsyn_migrations'].sort());
    expect(rows.filter((r) => r.table_schema === 'plan_store').map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['inbox', 'outbox']),
    );
  });

  it('migrates again without change when a second replica starts', async () => {
    await expect(h.services[0]?.migrate()).resolves.toBeUndefined();
  });

  it('reports ready once its database and NATS answer', async () => {
    const res = await h.request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { checks: Record<string, string> };
    expect(body.checks['plan-store-database']).toBe('ok');
    expect(body.checks.nats).toBe('ok');
  });
});
