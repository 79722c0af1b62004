/**
 * Runs the reliability drills (test/reliability/*.drill.ts) as one `bun test` run against
 * the real PostgreSQL, then prints every drill's figures in one table.
 *
 *   bun test/reliability/run.ts                 CI versions (about 4 minutes; .ci/run)
 *   bun test/reliability/run.ts --long          longer versions (npm run drill: ~25 minutes)
 *   bun test/reliability/run.ts --record        also writes the table into README.md ("Reliability")
 *   bun test/reliability/run.ts soak worker     only the drills whose file names contain these words
 *
 * Environment: NIMBUS_DRILL_DATABASE_URL (default TEST_DATABASE_URL's server, else
 * postgres://postgres@127.0.0.1:5432) names the server; every drill makes and drops its own
 * database there. NIMBUS_DRILL_PG_RESTART=1 allows drill 3b, which stops and starts the
 * whole PostgreSQL server: .ci/run sets it under CI=true, `--long` defaults it to 1 unless
 * the variable is set (NIMBUS_DRILL_PG_RESTART=0 npm run drill on a shared machine).
 * bun's own summary (` N pass`, ` N fail`) stays the last such lines, for .ci/run to count.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { commonRows, type Figures } from './support/figures';

const ROOT = join(import.meta.dir, '..', '..');
const args = process.argv.slice(2);
const long = args.includes('--long');
const record = args.includes('--record');
const filters = args.filter((arg) => !arg.startsWith('--'));

const files = readdirSync(import.meta.dir)
  .filter((file) => file.endsWith('.drill.ts'))
  .filter((file) => filters.length === 0 || filters.some((word) => file.includes(word)))
  .sort((a, b) => order(a) - order(b))
  .map((file) => `./test/reliability/${file}`);

/** Drill number order (1 replica, 2 worker, 3 database, 4 processor, 5 soak). */
function order(file: string): number {
  return ['replica', 'worker', 'database', 'processor', 'soak'].findIndex((word) => file.includes(word));
}

const figuresDir = mkdtempSync(join(tmpdir(), 'nimbus-drill-figures-'));
const prefix = `nimbus_drill_${process.pid}`;
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  NIMBUS_DRILL_MODE: long ? 'long' : 'ci',
  NIMBUS_DRILL_FIGURES_DIR: figuresDir,
  NIMBUS_DRILL_DB_PREFIX: prefix,
  // The drills judge reliability; the OpenAPI contract of every answer is the e2e suites' job.
  NIMBUS_OPENAPI_CONTRACT: 'off',
};
if (long && process.env.NIMBUS_DRILL_PG_RESTART === undefined) env.NIMBUS_DRILL_PG_RESTART = '1';

/** How this run is started again, as README.md shows it (`npm run drill` is `--long`). */
const command = (process.env.NIMBUS_DRILL_PG_RESTART !== undefined ? `NIMBUS_DRILL_PG_RESTART=${process.env.NIMBUS_DRILL_PG_RESTART} ` : '') + (long
  ? `npm run drill${args.filter((a) => a !== '--long').length ? ` -- ${args.filter((a) => a !== '--long').join(' ')}` : ''}`
  : `bun test/reliability/run.ts${args.length ? ` ${args.join(' ')}` : ''}`);
console.log(`== reliability drills (${long ? 'long' : 'CI'} versions): ${files.length} files, PostgreSQL restart drill ${env.NIMBUS_DRILL_PG_RESTART === '1' ? 'on' : 'off'}`);
const started = Date.now();
const child = Bun.spawn([process.execPath, 'test', '--timeout', long ? '1500000' : '300000', ...files], {
  cwd: ROOT,
  env,
  stdin: 'ignore',
  stdout: 'inherit',
  stderr: 'inherit',
});
const code = await child.exited;
const seconds = (Date.now() - started) / 1000;

await dropLeftovers();
const figures = readdirSync(figuresDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(join(figuresDir, file), 'utf8')) as Figures)
  .sort((a, b) => order(a.drill) - order(b.drill) || a.drill.localeCompare(b.drill));
rmSync(figuresDir, { recursive: true, force: true });

const rows = figures.map((f) => {
  const common = Object.fromEntries(commonRows(f).map(([name, value]) => [name, String(value)]));
  return {
    drill: f.drill,
    seconds: f.seconds.toFixed(0),
    requests: common.requests!,
    faults: String(f.faults),
    retried: common.retried!,
    duplicates: common.duplicates!,
    lost: common.lost!,
    'over-refunds': common['over-refunds']!,
    stuck: common.stuck!,
    result: f.passed ? 'passed' : 'FAILED',
  };
});
console.log(`\n== drill figures (${long ? 'long' : 'CI'} versions, ${seconds.toFixed(0)} s in all)`);
console.log(textTable(rows));
if (record) {
  writeReadme(markdown(rows, figures));
  console.log('README.md "Reliability" updated.');
}
process.exit(code ?? 1);

function textTable(rows: Array<Record<string, string>>): string {
  if (rows.length === 0) return '  (no drill wrote figures)';
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c]!.length)));
  const line = (values: string[]) => `  ${values.map((v, i) => v.padEnd(widths[i]!)).join('  ')}`;
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => r[c]!)))].join('\n');
}

function markdown(rows: Array<Record<string, string>>, all: Figures[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const head = `| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${columns.map((c) => r[c]).join(' | ')} |`).join('\n');
  const details = all
    .map((f) => {
      const extra = f.extra.filter(([name]) => name !== 'mode').map(([name, value]) => `${name}: ${value}`).join('; ');
      return `- **${f.drill}** (${f.title}). Faults: ${f.faultDetail}. ${extra}.`;
    })
    .join('\n');
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return [
    `Latest run: \`${command}\` (${long ? 'long' : 'CI'} versions), ${when} UTC, ${seconds.toFixed(0)} s,`,
    `on a 2-core machine, PostgreSQL 15 on loopback.`,
    '',
    head,
    body,
    '',
    details,
    ...(env.NIMBUS_DRILL_PG_RESTART === '1' ? [] : ['', 'Drill 3b (PostgreSQL restart) did not run: NIMBUS_DRILL_PG_RESTART was not 1.']),
  ].join('\n');
}

function writeReadme(section: string): void {
  const path = join(ROOT, 'README.md');
  const readme = readFileSync(path, 'utf8');
  const begin = '<!-- drill-figures:begin -->';
  const end = '<!-- drill-figures:end -->';
  const block = `${begin}\n${section}\n${end}`;
  if (readme.includes(begin) && readme.includes(end)) {
    writeFileSync(path, readme.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), () => block));
    return;
  }
  throw new Error('README.md has no drill-figures markers: add the "Reliability" section first');
}

/** Databases a drill left behind (a crash, NIMBUS_DRILL_KEEP_DB excepted): dropped by prefix. */
async function dropLeftovers(): Promise<void> {
  if (process.env.NIMBUS_DRILL_KEEP_DB === '1') return;
  const url = new URL(process.env.NIMBUS_DRILL_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/postgres';
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const rows = await admin`select datname from pg_database where datname like ${`${prefix}\\_%`}`;
    for (const { datname } of rows as unknown as Array<{ datname: string }>) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
  } catch (error) {
    console.warn(`could not drop leftover drill databases: ${String(error)}`);
  } finally {
    await admin.end({ timeout: 2 });
  }
}
