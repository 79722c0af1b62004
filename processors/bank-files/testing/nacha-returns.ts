import { entryHash, RECORD_LENGTH, BLOCKING_FACTOR } from '../nacha.ts';

/**
 * The NACHA return file a test ODFI sends back: one batch of return entries (transaction
 * code 26/36 for a returned debit, 21/31 for a returned credit), each with its `99`
 * addenda carrying the return reason and our original trace number, then the controls.
 */
export type AchReturn = {
  /** The original entry's transaction code. */
  returnOf: '22' | '27' | '32' | '37';
  routing: string;
  account: string;
  amount: number;
  individualId: string;
  name: string;
  originalTrace: string;
  code: string;
};

const RETURN_CODE: Record<AchReturn['returnOf'], string> = { '27': '26', '37': '36', '22': '21', '32': '31' };
const RDFI = '11000000';

const num = (value: number | string, length: number) => String(value).padStart(length, '0');
const text = (value: string, length: number) => value.toUpperCase().padEnd(length, ' ').slice(0, length);

function record(...fields: string[]): string {
  const line = fields.join('');
  if (line.length !== RECORD_LENGTH) throw new Error(`return record of ${line.length} characters`);
  return line;
}

export function nachaReturnFile(returns: readonly AchReturn[], at: Date, sequence: number): { name: string; content: string } {
  const iso = at.toISOString();
  const date = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
  const modifier = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[(sequence - 1) % 26]!;
  const isDebitCode = (code: string) => code === '26' || code === '36';
  const entries = returns.flatMap((entry, index) => {
    const trace = `${RDFI}${num(sequence * 1000 + index + 1, 7)}`;
    const code = RETURN_CODE[entry.returnOf];
    return [
      record('6', code, entry.routing, text(entry.account, 17), num(entry.amount, 10), text(entry.individualId, 15), text(entry.name, 22), '  ', '1', trace),
      record('7', '99', text(entry.code, 3), entry.originalTrace, ' '.repeat(6), entry.routing.slice(0, 8), ' '.repeat(44), trace),
    ];
  });
  const debit = returns.filter((entry) => isDebitCode(RETURN_CODE[entry.returnOf])).reduce((sum, entry) => sum + entry.amount, 0);
  const credit = returns.reduce((sum, entry) => sum + entry.amount, 0) - debit;
  const hash = entryHash(returns.map((entry) => entry.routing));
  const lines = [
    record('1', '01', ' 110000000', ' 110000000', date, iso.slice(11, 13) + iso.slice(14, 16), modifier, '094', '10', '1', text('NIMBUS PLATFORM', 23), text('TEST ODFI', 23), ' '.repeat(8)),
    record('5', '200', text('NIMBUS PLATFORM', 16), ' '.repeat(20), '1234567890', 'CCD', text('RETURNS', 10), ' '.repeat(6), date, '   ', '1', RDFI, num(1, 7)),
    ...entries,
    record('8', '200', num(entries.length, 6), hash, num(debit, 12), num(credit, 12), '1234567890', ' '.repeat(19), ' '.repeat(6), RDFI, num(1, 7)),
  ];
  const blocks = Math.ceil((lines.length + 1) / BLOCKING_FACTOR);
  lines.push(record('9', num(1, 6), num(blocks, 6), num(entries.length, 8), hash, num(debit, 12), num(credit, 12), ' '.repeat(39)));
  while (lines.length % BLOCKING_FACTOR !== 0) lines.push('9'.repeat(RECORD_LENGTH));
  return { name: `TESTODFI-RETURNS-${date}-${modifier}.ach`, content: `${lines.join('\n')}\n` };
}
