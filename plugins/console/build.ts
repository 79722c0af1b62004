import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILES, DIST_DIR, UI_DIR } from './bundle';

/**
 * Builds the console's browser bundle with Bun: ui/main.tsx (Preact, uPlot) into
 * dist/console.js and dist/console.css, minified, no source map, no external import.
 *
 * The bundle is committed (dist/), not built at server start: `npm install && npm start`
 * and the container image serve it as they are (the image installs production
 * dependencies only and runs from a read-only file system; main.deno.ts has no
 * Bun.build), the bytes users get are the bytes reviewed, and the server starts no
 * slower. plugins/console/build.test.ts rebuilds it and fails when dist/ is stale.
 *
 *   bun plugins/console/build.ts      # after changing anything under ui/
 */

export { BUNDLE_FILES, DIST_DIR, UI_DIR };

/** Builds into `outdir` and returns the bundle's files by name. */
export async function buildConsole(outdir: string): Promise<Record<string, Uint8Array>> {
  const result = await Bun.build({
    entrypoints: [join(UI_DIR, 'main.tsx')],
    outdir,
    target: 'browser',
    format: 'esm',
    minify: true,
    sourcemap: 'none',
    naming: { entry: 'console.[ext]', asset: '[name].[ext]' },
    define: { 'process.env.NODE_ENV': '"production"' },
    tsconfig: join(UI_DIR, 'tsconfig.json'),
  } as Parameters<typeof Bun.build>[0]);
  if (!result.success) throw new AggregateError(result.logs, 'The console bundle did not build.');
  const files: Record<string, Uint8Array> = {};
  for (const name of BUNDLE_FILES) files[name] = new Uint8Array(readFileSync(join(outdir, name)));
  return files;
}

/** A build in a scratch directory, for comparing with what dist/ holds. */
export async function buildToScratch(): Promise<Record<string, Uint8Array>> {
  const scratch = join(tmpdir(), `nimbus-console-${process.pid}-${Date.now()}`);
  try {
    return await buildConsole(scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const files = await buildToScratch();
  mkdirSync(DIST_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(DIST_DIR, name), bytes);
  console.log(Object.entries(files).map(([name, bytes]) => `dist/${name} ${bytes.length} bytes`).join('\n'));
}
