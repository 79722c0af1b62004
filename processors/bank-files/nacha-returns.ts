import { StatusFileError, type StatusItem, type StatusReport } from './camt054.ts';
import { RECORD_LENGTH } from './nacha.ts';

/**
 * A NACHA return file from the ODFI: return entries, each followed by its `99` addenda
 * with the return reason (`R01`...) and the trace number of our original entry, which is
 * how a return finds its payment. Notifications of change (`98` addenda, C-codes) move
 * no money and are counted, not applied. Records are checked for length and type so a
 * file that is not NACHA is refused rather than half read.
 */

/** 26/36: return of a debit (our account is debited again); 21/31: return of a credit. */
const RETURN_OF_DEBIT = new Set(['26', '36']);
const RETURN_OF_CREDIT = new Set(['21', '31']);

export function looksLikeNacha(text: string): boolean {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return first.length === RECORD_LENGTH && first.startsWith('101');
}

export function parseNachaReturns(text: string): StatusReport {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((line) => line.length > 0);
  const items: StatusItem[] = [];
  let pending: { code: string; amount: number } | undefined;
  let header: string | undefined;
  lines.forEach((line, index) => {
    if (line.length !== RECORD_LENGTH) throw new StatusFileError(`Record ${index + 1} is not ${RECORD_LENGTH} characters long.`);
    switch (line[0]) {
      case '1':
        header = line;
        break;
      case '5':
      case '8':
      case '9':
        pending = undefined;
        break;
      case '6': {
        const code = line.slice(1, 3);
        pending = RETURN_OF_DEBIT.has(code) || RETURN_OF_CREDIT.has(code) ? { code, amount: Number(line.slice(29, 39)) } : undefined;
        break;
      }
      case '7': {
        if (!pending || line.slice(1, 3) !== '99') break;
        items.push({
          kind: 'return',
          direction: RETURN_OF_DEBIT.has(pending.code) ? 'DBIT' : 'CRDT',
          status: 'BOOK',
          amount: pending.amount,
          currency: 'USD',
          code: line.slice(3, 6).trim(),
          originalTrace: line.slice(6, 21),
        });
        pending = undefined;
        break;
      }
      default:
        throw new StatusFileError(`Record ${index + 1} has an unknown record type.`);
    }
  });
  if (!header) throw new StatusFileError('The file has no file header record.');
  const created = header.slice(23, 33);
  return { format: 'nacha', messageId: `ACH-${created}-${header.slice(33, 34)}-${header.slice(13, 23).trim()}`, items };
}
