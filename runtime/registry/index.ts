/**
 * The typed registry: payment methods and processors registered by id at start.
 * Everything a plugin author or the payments layer needs is re-exported here.
 */
export { definePaymentMethod } from '../../plugins/payment-methods/define.ts';
export type { AnyPaymentMethodDefinition, PaymentMethodDefinition, PaymentMethodType } from '../../plugins/payment-methods/define.ts';
export { defineProcessor, configureProcessor } from '../../processors/sdk/define.ts';
export type { AnyProcessorDefinition, ProcessorDefinition, RegisteredProcessor } from '../../processors/sdk/define.ts';
export { createRegistry, type AnyRegistry, type Registry, type RegistryOptions } from './create.ts';
export { defaultRegistry, type DefaultRegistry, type DefaultRegistryOptions } from './default.ts';
export { DefaultRegistrySettings } from './model.ts';
