import { describe, expect, test } from 'bun:test';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEPLOY, ROOT } from './helpers';

/**
 * No Docker engine runs these tests, so the Dockerfile is checked as text: official Bun
 * image in every stage, production dependencies only, numeric non-root user, health
 * check, `nimbus serve` by default, and the same Bun and entry point as the project.
 */

const dockerfile = readFileSync(resolve(DEPLOY, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(resolve(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
const packageJson = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));

/** Instructions with continuation lines joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const all = (keyword: string) => instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const runtimeStage = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf('FROM'));
const inRuntime = (keyword: string) => runtimeStage.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('deploy/Dockerfile', () => {
  test('is multi-stage, every stage on the official Bun image, at the Bun version the project tests with', () => {
    const stages = all('FROM');
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) expect(from).toMatch(/^oven\/bun:\$\{BUN_VERSION\}[-\w]* AS \w+$/);
    const [arg] = all('ARG');
    if (arg === undefined) throw new Error('deploy/Dockerfile has no ARG');
    const version = /^BUN_VERSION=(\S+)$/.exec(arg)?.[1];
    expect(packageJson.devDependencies.bun.replace(/^[\^~]/, '')).toBe(version);
  });

  test('installs production dependencies only, from the lockfile, without install scripts', () => {
    const install = all('RUN').find((run) => run.includes('bun install'))!;
    expect(install).toContain('--production');
    expect(install).toContain('--frozen-lockfile');
    expect(install).toContain('--ignore-scripts');
    expect(all('COPY')).toContain('package.json package-lock.json ./');
    expect(inRuntime('COPY')).toContain('--from=deps /app/node_modules ./node_modules');
  });

  test('runs as a numeric non-root user, production by default, nothing written at run time', () => {
    const [user] = inRuntime('USER');
    expect(user).toMatch(/^\d+:\d+$/);
    if (user === undefined) throw new Error('the runtime stage has no USER');
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    const env = inRuntime('ENV').join(' ');
    expect(env).toContain('NIMBUS_ENV=production');
    expect(env).toContain('BUN_RUNTIME_TRANSPILER_CACHE_PATH=0');
    expect(env).toContain('PORT=3000');
  });

  test('has a HEALTHCHECK on /health/live, and `nimbus serve` as the default command', () => {
    const [healthcheck] = inRuntime('HEALTHCHECK');
    expect(healthcheck).toContain('/health/live');
    expect(healthcheck).toContain('process.env.PORT');
    expect(inRuntime('ENTRYPOINT')).toEqual(['["nimbus"]']);
    expect(inRuntime('CMD')).toEqual(['["serve"]']);
    expect(inRuntime('EXPOSE')).toEqual(['3000']);
  });

  test('`nimbus` on PATH is the package\'s own launcher, which execs Bun so that Bun gets SIGTERM', () => {
    expect(packageJson.bin.nimbus).toBe('./bin/nimbus');
    expect(inRuntime('RUN')).toContain('ln -s /app/bin/nimbus /usr/local/bin/nimbus');
    expect(inRuntime('WORKDIR')).toEqual(['/app']);
    const launcher = readFileSync(resolve(ROOT, 'bin/nimbus'), 'utf8');
    expect(launcher).toMatch(/^exec .*\/main\.ts" "\$@"$/m);
    // COPY keeps the mode from the build context: the launcher must be executable.
    expect(statSync(resolve(ROOT, 'bin/nimbus')).mode & 0o111).not.toBe(0);
  });

  test('.dockerignore keeps the repository history, local state, secrets and tests out of the image', () => {
    for (const entry of ['.git', 'node_modules', '.nimbus', '.env', '.env.*', 'test', '**/*.test.ts', 'deploy']) {
      expect(dockerignore).toContain(entry);
    }
    // Nothing the image needs is excluded.
    for (const needed of ['package.json', 'package-lock.json', 'runtime', 'plugins', 'processors', 'webhooks', 'db']) {
      expect(dockerignore).not.toContain(needed);
    }
  });
});
