// The postgres.js driver is installed with Samsyn's patch (infra/patches, applied by patch-package on npm ci):
// without it a write that races a closed connection throws outside any promise and kills the service — the fault
// run (npm run faults) saw invitation and statistics exit when PostgreSQL crash-restarted under load. (The same
// patch pipelines BEGIN and turns Nagle off; test/pipelined-begin.int.test.ts checks those parts by their behaviour.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// The CommonJS entry is cjs/src/index.js; the package root is three levels up.
const root = dirname(dirname(dirname(require.resolve('postgres'))));

describe('the installed postgres.js driver', () => {
  it.each(['src/connection.js', 'cjs/src/connection.js'])(
    'settles a write to a closed socket instead of throwing (%s)',
    (file) => {
      const source = readFileSync(join(root, file), 'utf8');
      const nextWrite = source.slice(source.indexOf('function nextWrite(fn) {'));
      expect(nextWrite.indexOf('if (!socket)')).toBeGreaterThan(0);
      expect(nextWrite.indexOf('if (!socket)')).toBeLessThan(nextWrite.indexOf('socket.write(chunk, fn)'));
    },
  );

  it.each(['src/connection.js', 'cjs/src/connection.js'])(
    'drops what was left unwritten when a socket closes, so it cannot reach the next socket (%s)',
    (file) => {
      const source = readFileSync(join(root, file), 'utf8');
      const closed = source.slice(source.indexOf('async function closed(hadError) {'));
      const reset = closed.indexOf('chunk = nextWriteTimer = null');
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThan(closed.indexOf('socket = null'));
    },
  );

  it.each(['src/connection.js', 'cjs/src/connection.js'])(
    'sends a COPY chunk without copying it into a new buffer (%s; test/copy-chunks.int.test.ts checks what arrives)',
    (file) => {
      const source = readFileSync(join(root, file), 'utf8');
      const start = source.indexOf('function CopyInResponse() {');
      const copyIn = source.slice(start, source.indexOf('function CopyOutResponse() {'));
      expect(start).toBeGreaterThan(0);
      expect(copyIn).toContain('socket.write(chunk, callback)');
      expect(copyIn).not.toContain('raw(chunk)');
      // A socket closed meanwhile fails the write through its callback instead of throwing.
      expect(copyIn.indexOf('if (!socket)')).toBeGreaterThan(0);
      expect(copyIn.indexOf('if (!socket)')).toBeLessThan(copyIn.indexOf('socket.cork()'));
    },
  );
});
