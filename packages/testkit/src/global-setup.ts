// vitest globalSetup: resolves PostgreSQL and NATS once per test run and hands their URLs to every test file.
import type { TestProject } from 'vitest/node';
import { resolveNats, resolvePostgres } from './infra.ts';
import './provided.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pg, nats] = await Promise.all([resolvePostgres(), resolveNats()]);
  project.provide('databaseUrl', pg.url);
  project.provide('natsUrl', nats.url);
  return async () => {
    await Promise.all([pg.stop?.(), nats.stop?.()]);
  };
}
