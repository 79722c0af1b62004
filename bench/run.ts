/**
 * `npm run bench [name...]`: runs the named benchmarks (default: the API benchmark, which
 * covers payments, reads, tokens and webhooks against the database's own limit), each in
 * its own process so one cannot skew another. Benchmarks never run in `npm test`.
 */
import { join } from 'node:path';

const BENCHMARKS: Record<string, string> = {
  api: 'api.ts',
  webhooks: 'webhooks.ts',
  'pathological-json': 'pathological-json.ts',
};

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : ['api']) {
  const file = BENCHMARKS[name];
  if (!file) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(1);
  }
  const child = Bun.spawn([process.execPath, join(import.meta.dir, file)], { stdout: 'inherit', stderr: 'inherit', env: process.env });
  if ((await child.exited) !== 0) process.exit(1);
}
