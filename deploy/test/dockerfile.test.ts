// The Dockerfile, linted as text: multi-stage, pinned base, non-root, production dependencies only, and the very
// command the multi-process runner (and its SIGTERM test) starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATE_COMMAND, SERVICE_COMMAND } from '@samsyn/local/src/processes.ts';
import { describe, expect, it } from 'vitest';
import { finalCommand, lintDockerfile, parseDockerfile } from '../src/dockerfile.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');

describe('deploy/Dockerfile', () => {
  it('keeps every lint rule', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('runs the command the multi-process runner runs, in the service folder the runner uses', () => {
    expect(finalCommand(dockerfile)).toEqual([...SERVICE_COMMAND]);
    const final = parseDockerfile(dockerfile).stages.at(-1);
    const workdir = final?.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a JS template
    expect(workdir).toBe('/app/services/${SERVICE}');
    expect(MIGRATE_COMMAND).toEqual([...SERVICE_COMMAND, 'migrate']);
  });

  it('gives the runtime only the standalone dist/ built from the lockfile, and runs nothing in it', () => {
    const { stages } = parseDockerfile(dockerfile);
    const final = stages.at(-1);
    const copies = final?.instructions.filter((i) => i.keyword === 'COPY') ?? [];
    expect(copies.map((c) => c.args)).toEqual(['--from=build /src/services/${SERVICE}/dist ./dist']);
    const build = stages.find((s) => s.name === 'build');
    const runs = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args) ?? [];
    expect(runs.some((r) => /^npm ci\b.*--ignore-scripts/.test(r))).toBe(true);
    expect(runs.some((r) => /deploy\/build-service\.mjs --standalone/.test(r))).toBe(true);
    expect(final?.instructions.some((i) => i.keyword === 'RUN')).toBe(false);
  });

  it('is built from a context that leaves out local state, build output and secrets', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.git', '**/node_modules', '**/dist', '.data', '.env'])
      expect(ignore).toContain(entry);
  });
});

describe('the Dockerfile lint', () => {
  it('catches a root user, an unpinned base, a stage-less ARG, npm install and a shell-form CMD', () => {
    const bad = [
      'ARG SERVICE',
      'FROM node:latest AS build',
      'RUN npm install',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a JS template
      'COPY services/${SERVICE}/dist /app',
      'FROM node AS runtime',
      'COPY --from=deps /x /y',
      'CMD node dist/main.js',
    ].join('\n');
    expect(lintDockerfile(bad)).toEqual(
      expect.arrayContaining([
        'stage 0: base node:latest is not pinned to a version',
        'stage 1: base node is not pinned to a version',
        'line 3: npm install instead of npm ci (the lockfile must decide)',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a JS template
        'line 4: uses ${SERVICE} without ARG SERVICE in this stage',
        'line 6: COPY --from=deps, no such earlier stage',
        'final stage runs as root, not a numeric non-root uid',
        'final stage has no exec-form CMD (signals must reach node)',
      ]),
    );
  });
});
