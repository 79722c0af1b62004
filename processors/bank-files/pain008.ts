import { toSepaText } from './charset.ts';
import { formatMinor, sumMinor } from './money.ts';
import { el, elWith, renderXml, type XmlNode } from './xml.ts';

/**
 * pain.008.001.02, the SEPA Core Direct Debit initiation the EPC implementation
 * guidelines prescribe. One payment information block per creditor account, collection
 * date and sequence type; what leaves is what the rulebook requires and nothing else: no
 * remittance text, no metadata, no debtor BIC (IBAN-only, `NOTPROVIDED`).
 */

export const PAIN_008_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.008.001.02';

export type SequenceType = 'FRST' | 'RCUR' | 'OOFF';

export type Creditor = { name: string; iban: string; bic?: string; creditorId: string };

export type DirectDebit = {
  endToEndId: string;
  /** Minor units (euro cents). */
  amount: number;
  debtorName: string;
  debtorIban: string;
  mandateReference: string;
  mandateSignedAt: string;
};

export type DebitGroup = {
  paymentInfoId: string;
  collectionDate: string;
  sequenceType: SequenceType;
  creditor: Creditor;
  debits: DirectDebit[];
};

export type Pain008 = { messageId: string; createdAt: Date; initiatingParty: string; groups: DebitGroup[] };

/** `2026-11-25T09:00:00`: UTC, without zone or fraction, the form every bank profile accepts. */
export function isoDateTime(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** Bank identification: the BIC when we have one, else the EPC's IBAN-only marker. */
export function agent(bic: string | undefined): XmlNode {
  return el('FinInstnId', bic ? el('BIC', bic) : el('Othr', el('Id', 'NOTPROVIDED')));
}

export function amountElement(name: string, amount: number, currency = 'EUR'): XmlNode {
  return elWith(name, { Ccy: currency }, formatMinor(amount, 2));
}

function debitNode(debit: DirectDebit): XmlNode {
  return el(
    'DrctDbtTxInf',
    el('PmtId', el('EndToEndId', debit.endToEndId)),
    amountElement('InstdAmt', debit.amount),
    el('DrctDbtTx', el('MndtRltdInf', el('MndtId', debit.mandateReference), el('DtOfSgntr', debit.mandateSignedAt), el('AmdmntInd', 'false'))),
    el('DbtrAgt', agent(undefined)),
    el('Dbtr', el('Nm', toSepaText(debit.debtorName, 70))),
    el('DbtrAcct', el('Id', el('IBAN', debit.debtorIban))),
  );
}

function groupNode(group: DebitGroup): XmlNode {
  const { creditor } = group;
  return el(
    'PmtInf',
    el('PmtInfId', group.paymentInfoId),
    el('PmtMtd', 'DD'),
    el('BtchBookg', 'true'),
    el('NbOfTxs', String(group.debits.length)),
    el('CtrlSum', formatMinor(sumMinor(group.debits.map((debit) => debit.amount)), 2)),
    el('PmtTpInf', el('SvcLvl', el('Cd', 'SEPA')), el('LclInstrm', el('Cd', 'CORE')), el('SeqTp', group.sequenceType)),
    el('ReqdColltnDt', group.collectionDate),
    el('Cdtr', el('Nm', toSepaText(creditor.name, 70))),
    el('CdtrAcct', el('Id', el('IBAN', creditor.iban))),
    el('CdtrAgt', agent(creditor.bic)),
    el('ChrgBr', 'SLEV'),
    el('CdtrSchmeId', el('Id', el('PrvtId', el('Othr', el('Id', creditor.creditorId), el('SchmeNm', el('Prtry', 'SEPA')))))),
    ...group.debits.map(debitNode),
  );
}

export function buildPain008(message: Pain008): string {
  const all = message.groups.flatMap((group) => group.debits);
  if (all.length === 0) throw new Error('A collection file needs at least one debit.');
  return renderXml(
    elWith(
      'Document',
      { xmlns: PAIN_008_NAMESPACE, 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance' },
      el(
        'CstmrDrctDbtInitn',
        el(
          'GrpHdr',
          el('MsgId', message.messageId),
          el('CreDtTm', isoDateTime(message.createdAt)),
          el('NbOfTxs', String(all.length)),
          el('CtrlSum', formatMinor(sumMinor(all.map((debit) => debit.amount)), 2)),
          el('InitgPty', el('Nm', toSepaText(message.initiatingParty, 70))),
        ),
        ...message.groups.map(groupNode),
      ),
    ),
  );
}
