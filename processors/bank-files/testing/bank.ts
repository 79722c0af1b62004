import { formatMinor, parseDecimal } from '../money.ts';
import { child, children, el, elWith, parseXml, renderXml, textAt, type XmlChild, type XmlNode } from '../xml.ts';
import { nachaReturnFile, type AchReturn } from './nacha-returns.ts';

/**
 * A bank for tests: it reads the files the connector wrote (pain.008, pain.001, NACHA)
 * and answers the way a bank answers, with camt.054 notifications (version 02 or 04,
 * whole batches booked with or without their transactions listed) and NACHA return
 * files. What happens to each account is the table below, in the spirit of the
 * simulator's test data. Returns "after settlement" (a debtor's refund request, an
 * unauthorised debit) are held back until `later()`.
 */

export const SEPA_ACCOUNTS = {
  settles: 'DE89370400440532013000',
  closed: 'DE62370400440532013001', // AC04 before settlement
  noFunds: 'DE35370400440532013002', // AM04 before settlement
  noMandate: 'DE08370400440532013003', // MD01 before settlement
  refundRequest: 'DE78370400440532013004', // settles, then MD06 (debtor's refund right, 8 weeks)
  refundBounces: 'DE51370400440532013005', // settles; a credit transfer back to it is returned AC04
} as const;

export const ACH_ACCOUNTS = {
  settles: '000123456789',
  noFunds: '000111111116', // R01
  noAccount: '000333333333', // R03
  unauthorized: '000444444444', // settles, then R10 (60-day consumer return)
  refundBounces: '000555555555', // settles; a credit back to it is returned R02
} as const;

export const ACH_ROUTING = '110000000';

type Fate = { kind: 'settle' } | { kind: 'return'; code: string; later: boolean };

function debitFate(account: string): Fate {
  switch (account) {
    case SEPA_ACCOUNTS.closed:
      return { kind: 'return', code: 'AC04', later: false };
    case SEPA_ACCOUNTS.noFunds:
      return { kind: 'return', code: 'AM04', later: false };
    case SEPA_ACCOUNTS.noMandate:
      return { kind: 'return', code: 'MD01', later: false };
    case SEPA_ACCOUNTS.refundRequest:
      return { kind: 'return', code: 'MD06', later: true };
    case ACH_ACCOUNTS.noFunds:
      return { kind: 'return', code: 'R01', later: false };
    case ACH_ACCOUNTS.noAccount:
      return { kind: 'return', code: 'R03', later: false };
    case ACH_ACCOUNTS.unauthorized:
      return { kind: 'return', code: 'R10', later: true };
    default:
      return { kind: 'settle' };
  }
}

function creditFate(account: string): Fate {
  if (account === SEPA_ACCOUNTS.refundBounces) return { kind: 'return', code: 'AC04', later: false };
  if (account === ACH_ACCOUNTS.refundBounces) return { kind: 'return', code: 'R02', later: false };
  return { kind: 'settle' };
}

export type BankAnswer = { name: string; content: string };
export type TestBankOptions = {
  /** The account the notifications are about (our creditor IBAN). */
  account: string;
  camtVersion?: '02' | '04';
  /** `details`: a batch booking lists its transactions; `sum`: only the batch (MsgId, PmtInfId, total). */
  booking?: 'details' | 'sum';
  now?: () => Date;
};

type Tx = { endToEndId: string; amount: number; account: string; mandate?: string };
type Block = { messageId: string; paymentInfoId: string; transactions: Tx[] };
type Item = { tx: Tx; returnCode?: string; direction: 'CRDT' | 'DBIT'; status: 'BOOK' | 'INFO'; family: string; sub: string };

export function createTestBank(options: TestBankOptions) {
  const version = options.camtVersion ?? '02';
  const booking = options.booking ?? 'details';
  const now = options.now ?? (() => new Date());
  const heldBack: { sepa: Item[]; ach: AchReturn[] } = { sepa: [], ach: [] };
  let sequence = 0;

  function amountNode(name: string, amount: number): XmlNode {
    return elWith(name, { Ccy: 'EUR' }, formatMinor(amount, 2));
  }

  function txNode(item: Item, block?: Block): XmlNode {
    const refs = el('Refs', block && el('MsgId', block.messageId), block && el('PmtInfId', block.paymentInfoId), el('EndToEndId', item.tx.endToEndId), item.tx.mandate && el('MndtId', item.tx.mandate));
    const returnInfo: XmlChild = item.returnCode && el('RtrInf', el('Rsn', el('Cd', item.returnCode)), el('AddtlInf', 'Returned by the test bank'));
    return version === '04'
      ? el('TxDtls', refs, amountNode('Amt', item.tx.amount), el('CdtDbtInd', item.direction), returnInfo)
      : el('TxDtls', refs, el('AmtDtls', el('TxAmt', amountNode('Amt', item.tx.amount))), returnInfo);
  }

  function entryNode(amount: number, items: Item[], block?: Block): XmlNode {
    const first = items[0]!;
    const day = now().toISOString().slice(0, 10);
    const batch = block && el('Btch', el('MsgId', block.messageId), el('PmtInfId', block.paymentInfoId), el('NbOfTxs', String(items.length)), amountNode('TtlAmt', amount), el('CdtDbtInd', first.direction));
    const details = block && booking === 'sum' ? [] : items.map((item) => txNode(item, block));
    return el(
      'Ntry',
      amountNode('Amt', amount),
      el('CdtDbtInd', first.direction),
      el('Sts', first.status),
      el('BookgDt', el('Dt', day)),
      el('ValDt', el('Dt', day)),
      el('BkTxCd', el('Domn', el('Cd', 'PMNT'), el('Fmly', el('Cd', first.family), el('SubFmlyCd', first.sub)))),
      el('NtryDtls', batch, ...details),
    );
  }

  function camt(entries: XmlNode[]): BankAnswer {
    sequence += 1;
    const id = `TESTBANK-CAMT-${String(sequence).padStart(4, '0')}`;
    const created = now().toISOString().slice(0, 19);
    const content = renderXml(
      elWith(
        'Document',
        { xmlns: `urn:iso:std:iso:20022:tech:xsd:camt.054.001.${version}` },
        el(
          'BkToCstmrDbtCdtNtfctn',
          el('GrpHdr', el('MsgId', id), el('CreDtTm', created)),
          el('Ntfctn', el('Id', `${id}-1`), el('CreDtTm', created), el('Acct', el('Id', el('IBAN', options.account))), ...entries),
        ),
      ),
    );
    return { name: `${id}.xml`, content };
  }

  function blocksOf(xml: string, kind: 'DrctDbtTxInf' | 'CdtTrfTxInf'): Block[] {
    const root = parseXml(xml);
    const message = root.children[0]!;
    const messageId = textAt(message, 'GrpHdr', 'MsgId')!;
    return children(message, 'PmtInf').map((block) => ({
      messageId,
      paymentInfoId: textAt(block, 'PmtInfId')!,
      transactions: children(block, kind).map((tx) => ({
        endToEndId: textAt(tx, 'PmtId', 'EndToEndId')!,
        amount: parseDecimal(textAt(tx, 'InstdAmt') ?? textAt(tx, 'Amt', 'InstdAmt')!, 2),
        account: textAt(tx, kind === 'DrctDbtTxInf' ? 'DbtrAcct' : 'CdtrAcct', 'Id', 'IBAN')!,
        mandate: textAt(tx, 'DrctDbtTx', 'MndtRltdInf', 'MndtId'),
      })),
    }));
  }

  /** Collections: one booking per block for what settles; returns before settlement as information entries. */
  function answerCollections(xml: string): BankAnswer[] {
    const entries: XmlNode[] = [];
    for (const block of blocksOf(xml, 'DrctDbtTxInf')) {
      const settled: Item[] = [];
      for (const tx of block.transactions) {
        const fate = debitFate(tx.account);
        const item: Item = { tx, direction: 'CRDT', status: 'BOOK', family: 'IDDT', sub: 'ESDD' };
        if (fate.kind === 'return' && !fate.later) entries.push(entryNode(tx.amount, [{ ...item, returnCode: fate.code, status: 'INFO', sub: 'UPDD' }]));
        else settled.push(item);
        if (fate.kind === 'return' && fate.later) heldBack.sepa.push({ ...item, returnCode: fate.code, direction: 'DBIT', sub: 'UPDD' });
      }
      if (settled.length > 0) entries.push(entryNode(settled.reduce((sum, item) => sum + item.tx.amount, 0), settled, block));
    }
    return entries.length > 0 ? [camt(entries)] : [];
  }

  /** Credit transfers (refunds): booked as a batch debit; one to a closed account comes back credited with its reason. */
  function answerTransfers(xml: string): BankAnswer[] {
    const entries: XmlNode[] = [];
    for (const block of blocksOf(xml, 'CdtTrfTxInf')) {
      const items = block.transactions.map((tx): Item => ({ tx, direction: 'DBIT', status: 'BOOK', family: 'ICDT', sub: 'ESCT' }));
      entries.push(entryNode(items.reduce((sum, item) => sum + item.tx.amount, 0), items, block));
      for (const item of items) {
        const fate = creditFate(item.tx.account);
        if (fate.kind === 'return') entries.push(entryNode(item.tx.amount, [{ ...item, direction: 'CRDT', returnCode: fate.code, sub: 'RRTN' }]));
      }
    }
    return [camt(entries)];
  }

  /** ACH: no news is good news; returns come in a NACHA return file. */
  function answerAch(content: string): BankAnswer[] {
    const lines = content.split('\n').filter((line) => line.length === 94);
    const returns: AchReturn[] = [];
    for (const line of lines.filter((candidate) => candidate.startsWith('6'))) {
      const code = line.slice(1, 3);
      const account = line.slice(12, 29).trim();
      const debit = code === '27' || code === '37';
      const fate = debit ? debitFate(account) : creditFate(account);
      if (fate.kind !== 'return') continue;
      const entry: AchReturn = {
        returnOf: code as AchReturn['returnOf'],
        routing: line.slice(3, 12),
        account,
        amount: Number(line.slice(29, 39)),
        individualId: line.slice(39, 54).trim(),
        name: line.slice(54, 76).trim(),
        originalTrace: line.slice(79, 94),
        code: fate.code,
      };
      (fate.later ? heldBack.ach : returns).push(entry);
    }
    return returns.length > 0 ? [nachaReturnFile(returns, now(), (sequence += 1))] : [];
  }

  return {
    /** The bank's answer to one of our files (nothing when all is well and nothing needs saying). */
    receive(content: string): BankAnswer[] {
      if (content.startsWith('101')) return answerAch(content);
      const root = parseXml(content);
      if (child(root, 'CstmrDrctDbtInitn')) return answerCollections(content);
      if (child(root, 'CstmrCdtTrfInitn')) return answerTransfers(content);
      throw new Error('The test bank does not read this file.');
    },
    /** Weeks later: returns after settlement. */
    later(): BankAnswer[] {
      const answers: BankAnswer[] = [];
      if (heldBack.sepa.length > 0) answers.push(camt(heldBack.sepa.map((item) => entryNode(item.tx.amount, [item]))));
      if (heldBack.ach.length > 0) answers.push(nachaReturnFile(heldBack.ach, now(), (sequence += 1)));
      heldBack.sepa = [];
      heldBack.ach = [];
      return answers;
    },
  };
}
