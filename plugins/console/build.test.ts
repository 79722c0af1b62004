import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, DIST_DIR } from './bundle';
import { buildToScratch } from './build';

/**
 * dist/ is committed (see build.ts for why): it must be exactly what the sources build
 * to, so nobody ships a stale or hand-edited bundle. After changing ui/, run
 * `bun plugins/console/build.ts` and commit dist/ with the change.
 */
describe('the console bundle', () => {
  test(
    'rebuilding ui/ gives the committed dist/ byte for byte',
    async () => {
      const built = await buildToScratch();
      for (const name of BUNDLE_FILES) {
        const committed = new Uint8Array(readFileSync(join(DIST_DIR, name)));
        const same = Buffer.compare(Buffer.from(built[name]!), Buffer.from(committed)) === 0;
        expect({ file: `plugins/console/dist/${name}`, upToDate: same }).toEqual({ file: `plugins/console/dist/${name}`, upToDate: true });
      }
    },
    60_000,
  );

  test('the bundle loads nothing from elsewhere and carries no source map', () => {
    const js = readFileSync(join(DIST_DIR, 'console.js'), 'utf8');
    const css = readFileSync(join(DIST_DIR, 'console.css'), 'utf8');
    // Booleans, not toMatch: a failing match would print the whole minified bundle.
    expect({
      sourceMap: /sourceMappingURL/.test(js),
      remoteImport: /\bimport\s*\(?\s*["']https?:/.test(js),
      staticImport: /(^|[;}])\s*import\s*[\w{*"']/.test(js),
      remoteCss: /@import|url\(\s*["']?https?:/.test(css),
      // The token lives in memory: the bundle never touches web storage or cookies.
      storage: /localStorage|sessionStorage|document\.cookie/.test(js),
    }).toEqual({ sourceMap: false, remoteImport: false, staticImport: false, remoteCss: false, storage: false });
  });
});
