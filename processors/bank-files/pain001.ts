import { toSepaText } from './charset.ts';
import { formatMinor, sumMinor } from './money.ts';
import { agent, amountElement, isoDateTime, type Creditor } from './pain008.ts';
import { el, elWith, renderXml, type XmlNode } from './xml.ts';

/**
 * pain.001.001.03, SEPA Credit Transfer initiation: how a refund of a collected debit
 * goes back to the debtor's account. The remittance text names the collection it pays
 * back (its end-to-end id), so the debtor can match the two; nothing else is added.
 */

export const PAIN_001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03';

export type CreditTransfer = { endToEndId: string; amount: number; creditorName: string; creditorIban: string; remittance: string };

/** `debtor` is our own account (the creditor of the original collections). */
export type TransferGroup = { paymentInfoId: string; executionDate: string; debtor: Creditor; transfers: CreditTransfer[] };

export type Pain001 = { messageId: string; createdAt: Date; initiatingParty: string; groups: TransferGroup[] };

function transferNode(transfer: CreditTransfer): XmlNode {
  return el(
    'CdtTrfTxInf',
    el('PmtId', el('EndToEndId', transfer.endToEndId)),
    el('Amt', amountElement('InstdAmt', transfer.amount)),
    el('Cdtr', el('Nm', toSepaText(transfer.creditorName, 70))),
    el('CdtrAcct', el('Id', el('IBAN', transfer.creditorIban))),
    el('RmtInf', el('Ustrd', toSepaText(transfer.remittance, 140))),
  );
}

function groupNode(group: TransferGroup): XmlNode {
  const { debtor } = group;
  return el(
    'PmtInf',
    el('PmtInfId', group.paymentInfoId),
    el('PmtMtd', 'TRF'),
    el('BtchBookg', 'true'),
    el('NbOfTxs', String(group.transfers.length)),
    el('CtrlSum', formatMinor(sumMinor(group.transfers.map((transfer) => transfer.amount)), 2)),
    el('PmtTpInf', el('SvcLvl', el('Cd', 'SEPA'))),
    el('ReqdExctnDt', group.executionDate),
    el('Dbtr', el('Nm', toSepaText(debtor.name, 70))),
    el('DbtrAcct', el('Id', el('IBAN', debtor.iban))),
    el('DbtrAgt', agent(debtor.bic)),
    el('ChrgBr', 'SLEV'),
    ...group.transfers.map(transferNode),
  );
}

export function buildPain001(message: Pain001): string {
  const all = message.groups.flatMap((group) => group.transfers);
  if (all.length === 0) throw new Error('A transfer file needs at least one transfer.');
  return renderXml(
    elWith(
      'Document',
      { xmlns: PAIN_001_NAMESPACE, 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance' },
      el(
        'CstmrCdtTrfInitn',
        el(
          'GrpHdr',
          el('MsgId', message.messageId),
          el('CreDtTm', isoDateTime(message.createdAt)),
          el('NbOfTxs', String(all.length)),
          el('CtrlSum', formatMinor(sumMinor(all.map((transfer) => transfer.amount)), 2)),
          el('InitgPty', el('Nm', toSepaText(message.initiatingParty, 70))),
        ),
        ...message.groups.map(groupNode),
      ),
    ),
  );
}
