import { describeProcessorConformance, type ConformanceFixtures } from '../conformance/index.ts';
import type { PaymentMethodInput as PaymentMethodRequest } from '../../runtime/registry/index.ts';
import { createSimulator, signedCallbackRequest } from './index.ts';

const SECRET = 'simulator-conformance-secret-0123';

const card = (number: string): PaymentMethodRequest => ({
  type: 'card',
  card: { number, exp_month: 12, exp_year: 2030, cvc: '123' },
});

/** The API.md test data, as the conformance kit wants it. */
const simulatorFixtures: ConformanceFixtures = {
  currency: 'EUR',
  amount: 2000,
  methods: {
    approved: card('4242424242424242'),
    declined: [
      { method: card('4000000000000002'), code: 'card_declined', declineCode: 'generic_decline' },
      { method: card('4000000000009995'), code: 'card_declined', declineCode: 'insufficient_funds' },
      { method: card('4000000000009987'), code: 'card_declined', declineCode: 'lost_card' },
      { method: card('4000000000000069'), code: 'expired_card' },
      { method: card('4000000000000127'), code: 'incorrect_cvc' },
    ],
    refundFails: card('4000000000005126'),
    pending: {
      method: {
        type: 'bank_transfer',
        bank_transfer: {
          scheme: 'ach',
          routing_number: '110000000',
          account_number: '000111111116',
          account_type: 'checking',
          account_holder_name: 'Jane Doe',
        },
      },
      currency: 'USD',
      settlesTo: 'failed',
      code: 'R01',
    },
    timeout: card('4000000000000408'),
  },
};

describeProcessorConformance({
  name: 'simulator',
  fixtures: simulatorFixtures,
  factory() {
    let clock = Date.parse('2026-11-25T12:00:00.000Z');
    return {
      processor: createSimulator({ now: () => clock, settleMs: 2000 }),
      credentials: { callbackSecret: SECRET },
      settle: () => void (clock += 2000),
      webhook: () =>
        signedCallbackRequest(
          SECRET,
          { id: 'simevt_1', type: 'payment.updated', created: Math.floor(clock / 1000), data: { reference: 'sim_1', status: 'succeeded' } },
          { timestamp: Math.floor(clock / 1000) },
        ),
    };
  },
});
