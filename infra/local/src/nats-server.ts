// Finds NATS for the one-machine runner: NATS_URL, else a local server on 4222, else a nats-server it starts itself.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

async function answers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export interface NatsChoice {
  url: string;
  child?: ChildProcess;
  how: string;
}

export async function findOrStartNats(envUrl: string | undefined, dataDir: string): Promise<NatsChoice> {
  if (envUrl) return { url: envUrl, how: 'NATS_URL' };
  if (await answers(DEFAULT_NATS_URL))
    return { url: DEFAULT_NATS_URL, how: 'local server on 127.0.0.1:4222' };
  if (spawnSync('nats-server', ['--version']).status !== 0) {
    throw new Error(
      [
        'No NATS server: NATS_URL is not set, nothing answers on 127.0.0.1:4222, and nats-server is not on PATH.',
        'Install one and run again:',
        '  Debian/Ubuntu: sudo apt-get install -y nats-server',
        '  macOS:         brew install nats-server',
        '  or download it from the NATS project and put it on PATH, or set NATS_URL.',
      ].join('\n'),
    );
  }
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', '4222', '-sd', storeDir], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nats-server exited at start with code ${child.exitCode}`);
    if (await answers(DEFAULT_NATS_URL))
      return { url: DEFAULT_NATS_URL, child, how: `nats-server started by Samsyn (store ${storeDir})` };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('nats-server did not answer within 10 s');
}
