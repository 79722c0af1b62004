/**
 * The ceiling the API is compared with: a bare Elysia app on Bun with the same body
 * validation as POST /v1/payments (the create body the registry derives), no database,
 * no auth. `bun bench/support/bare-elysia.ts <port>`; prints `ready` when listening.
 */
import { Elysia } from 'elysia';
import nimbusConfig from '../../nimbus.config';
import { paymentSchemas } from '../../plugins/payments/model';
import { createRegistry } from '../../runtime/registry';

const port = Number(process.argv[2] ?? 3999);
const registry = createRegistry({ paymentMethods: nimbusConfig.paymentMethods, processors: [] });
const { CreatePaymentBody } = paymentSchemas(registry);

new Elysia({ normalize: false })
  .post('/v1/payments', ({ body }) => ({ id: 'pay_bare', object: 'payment', amount: body.amount, currency: body.currency }), { body: CreatePaymentBody })
  .get('/v1/payments/:id', ({ params }) => ({ id: params.id, object: 'payment' }))
  .listen({ hostname: '127.0.0.1', port });
console.log('ready');
