// A test file's own database with one table `t` and a postgres.js client on it, for tests that hold the driver
// itself to account. Created before the file's tests, dropped after them.
import { createTestDatabase, type TestDatabase } from '@samsyn/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';

export interface Scratch {
  readonly client: postgres.Sql;
  readonly url: string;
}

export function scratchDatabase(label: string, tableColumns: string): Scratch {
  let testDb: TestDatabase | undefined;
  let client: postgres.Sql | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(label);
    client = postgres(testDb.url, { max: 2, onnotice: () => {} });
    await client.unsafe(`create table t (${tableColumns})`);
  });
  afterAll(async () => {
    // A timeout: a connection killed inside a transaction keeps end() waiting otherwise (so does the unpatched driver).
    await client?.end({ timeout: 1 });
    await testDb?.drop();
  });
  return {
    get client() {
      if (!client) throw new Error('scratch database: used before its beforeAll ran');
      return client;
    },
    get url() {
      if (!testDb) throw new Error('scratch database: used before its beforeAll ran');
      return testDb.url;
    },
  };
}
