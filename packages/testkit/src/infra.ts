// Finds the real PostgreSQL and NATS JetStream the tests run against: testcontainers where a Docker engine
// answers, otherwise DATABASE_URL / NATS_URL or the local defaults. Unreachable means fail, never skip.
import { existsSync } from 'node:fs';
import { connect } from 'nats';
import postgres from 'postgres';

export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const LOCAL_NATS_URL = 'nats://127.0.0.1:4222';

const HOW_TO_START_PG = [
  'Start PostgreSQL, then run the tests again:',
  '  Debian/Ubuntu: apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  '  or point DATABASE_URL at a server where the user may CREATE DATABASE,',
  '  or run a Docker engine so that testcontainers can start one.',
].join('\n');
const HOW_TO_START_NATS = [
  'Start NATS with JetStream, then run the tests again:',
  '  apt-get install -y nats-server && nats-server -js -a 127.0.0.1 -p 4222 -sd /var/lib/nats-server &',
  '  or point NATS_URL at a JetStream-enabled server,',
  '  or run a Docker engine so that testcontainers can start one.',
].join('\n');

export interface Service {
  url: string;
  via: 'env' | 'container' | 'local';
  stop?: () => Promise<void>;
}

function dockerLikely(): boolean {
  return (
    Boolean(process.env.DOCKER_HOST) ||
    existsSync('/var/run/docker.sock') ||
    existsSync(`${process.env.HOME}/.docker/run/docker.sock`)
  );
}

async function dockerAvailable(): Promise<boolean> {
  if (process.env.SAMSYN_TEST_NO_CONTAINERS === '1' || !dockerLikely()) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function checkPostgres(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(
      `PostgreSQL at ${redact(url)} is not reachable (${(err as Error).message}).\n${HOW_TO_START_PG}`,
    );
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function checkNats(url: string): Promise<void> {
  let nc: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    nc = await connect({ servers: url, timeout: 3000, reconnect: false });
    await nc.jetstreamManager({ timeout: 3000 });
  } catch (err) {
    throw new Error(
      `NATS JetStream at ${url} is not reachable (${(err as Error).message}).\n${HOW_TO_START_NATS}`,
    );
  } finally {
    await nc?.close();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

export async function resolvePostgres(): Promise<Service> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    await checkPostgres(fromEnv);
    return { url: fromEnv, via: 'env' };
  }
  if (await dockerAvailable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine')
      .withUsername('postgres')
      .withPassword('postgres')
      .start();
    const url = container.getConnectionUri();
    return { url, via: 'container', stop: async () => void (await container.stop()) };
  }
  await checkPostgres(LOCAL_DATABASE_URL);
  return { url: LOCAL_DATABASE_URL, via: 'local' };
}

export async function resolveNats(): Promise<Service> {
  const fromEnv = process.env.NATS_URL;
  if (fromEnv) {
    await checkNats(fromEnv);
    return { url: fromEnv, via: 'env' };
  }
  if (await dockerAvailable()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    const url = `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
    return { url, via: 'container', stop: async () => void (await container.stop()) };
  }
  await checkNats(LOCAL_NATS_URL);
  return { url: LOCAL_NATS_URL, via: 'local' };
}
