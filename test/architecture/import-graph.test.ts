import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';

/**
 * The shape of the tree (DESIGN.md "Imports point down only"): the kernel imports no
 * extension, connectors import neither plugins nor the database, and no two top-level
 * folders import each other. Every TypeScript file counts, tests included, and so does
 * every kind of import (`import type`, re-exports, dynamic `import()`).
 */
const ROOT = join(import.meta.dir, '..', '..');
const FOLDERS = ['runtime', 'plugins', 'processors', 'webhooks', 'db', 'test', 'bench', 'deploy'] as const;
type Folder = (typeof FOLDERS)[number];

const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s+['"]([^'"]+)['"]/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return /\.(ts|tsx|mts)$/.test(name) ? [path] : [];
  });
}

/** The top-level folder (or file, for root files such as nimbus.config.ts) a relative import lands in. */
function importsOf(file: string, source = readFileSync(file, 'utf8')): Array<{ specifier: string; target: string }> {
  const found: Array<{ specifier: string; target: string }> = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (!specifier?.startsWith('.')) continue;
    const resolved = relative(ROOT, normalize(join(dirname(file), specifier)));
    found.push({ specifier, target: resolved.split(sep)[0]! });
  }
  return found;
}

type Edge = { from: string; to: string; file: string; specifier: string };

function edges(): Edge[] {
  return FOLDERS.flatMap((folder) =>
    tsFiles(join(ROOT, folder)).flatMap((file) =>
      importsOf(file)
        .filter(({ target }) => target !== folder)
        .map(({ target, specifier }) => ({ from: folder, to: target, file: relative(ROOT, file), specifier })),
    ),
  );
}

const ALL = edges();
const crossing = (from: Folder, to: readonly string[]) => ALL.filter((edge) => edge.from === from && to.includes(edge.to));
const describeEdges = (list: Edge[]) => list.map((edge) => `${edge.file} imports '${edge.specifier}'`);
/** Root files are the composition root and entry points: only `test` and `bench` may build on them. */
const ROOT_FILES = ['nimbus.config.ts', 'nimbus.config', 'main.ts', 'main', 'main.deno.ts', 'main.deno'];

describe('import graph', () => {
  test('the walker sees every kind of import (so it would catch a violation)', () => {
    expect(ALL.length).toBeGreaterThan(100);
    expect(ALL.some((edge) => edge.from === 'plugins' && edge.to === 'runtime')).toBe(true);
    const kernelFile = join(ROOT, 'runtime', 'registry', 'imagined.ts');
    const source = [
      "import type { Card } from '../../plugins/payment-methods/card';",
      "export { sim } from '../../processors/simulator';",
      "const lazy = await import('../../webhooks/index.ts');",
      "import '../../nimbus.config';",
      "import { ok } from '../errors';",
    ].join('\n');
    expect(importsOf(kernelFile, source).map((found) => found.target)).toEqual(['plugins', 'processors', 'webhooks', 'nimbus.config', 'runtime']);
  });

  test('runtime/ (the kernel) imports nothing from plugins/, processors/, webhooks/ or the composition root', () => {
    expect(describeEdges(crossing('runtime', ['plugins', 'processors', 'webhooks', 'test', 'bench', ...ROOT_FILES]))).toEqual([]);
  });

  test('processors/ imports nothing from plugins/, webhooks/ or db/', () => {
    expect(describeEdges(crossing('processors', ['plugins', 'webhooks', 'db', 'test', 'bench', ...ROOT_FILES]))).toEqual([]);
  });

  test('plugins/ and webhooks/ never reach the composition root', () => {
    expect(describeEdges([...crossing('plugins', ROOT_FILES), ...crossing('webhooks', ROOT_FILES)])).toEqual([]);
  });

  test('no two top-level folders import each other', () => {
    const pairs = new Set(ALL.map((edge) => `${edge.from}->${edge.to}`));
    const cycles = [...pairs]
      .map((pair) => pair.split('->') as [string, string])
      .filter(([from, to]) => pairs.has(`${to}->${from}`) && from < to)
      .map(([from, to]) => {
        const example = (a: string, b: string) => ALL.find((edge) => edge.from === a && edge.to === b)!;
        return `${from} <-> ${to}: ${describeEdges([example(from, to), example(to, from)]).join('; ')}`;
      });
    expect(cycles).toEqual([]);
  });
});
