/**
 * Each drill ends by printing its figures as a table and, when the runner asks for it
 * (NIMBUS_DRILL_FIGURES_DIR), writing them as JSON for the run's summary and the README.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { figuresDir, MODE } from './env';

export interface Figures {
  drill: string;
  title: string;
  mode: string;
  seconds: number;
  requests: number;
  faults: number;
  /** What the faults were, in words. */
  faultDetail: string;
  retried: number;
  duplicates: number;
  lost: number;
  overRefunds: number;
  stuck: number;
  /** Drill-specific figures, printed after the common ones. */
  extra: Array<[string, string | number]>;
  passed?: boolean;
  violations?: string[];
}

export function table(rows: Array<[string, string | number]>): string {
  const cell = (value: string | number) => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(1)) : value);
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${cell(value)}`).join('\n');
}

export function commonRows(f: Figures): Array<[string, string | number]> {
  return [
    ['requests', f.requests],
    ['faults injected', `${f.faults} (${f.faultDetail})`],
    ['retried', f.retried],
    ['duplicates', f.duplicates],
    ['lost', f.lost],
    ['over-refunds', f.overRefunds],
    ['stuck', f.stuck],
  ];
}

export function report(figures: Omit<Figures, 'mode'>): Figures {
  const full: Figures = { ...figures, mode: MODE };
  const lines = [
    '',
    `== drill ${full.drill}: ${full.title} (${full.mode}, ${full.seconds.toFixed(0)} s)`,
    table([...commonRows(full), ...full.extra]),
  ];
  if (full.violations && full.violations.length > 0) {
    lines.push(full.passed ? '  notes:' : '  violations:', ...full.violations.slice(0, 20).map((v) => `    - ${v}`));
  }
  console.log(lines.join('\n'));
  const dir = figuresDir();
  if (dir) writeFileSync(join(dir, `${full.drill}.json`), JSON.stringify(full, null, 2));
  return full;
}
