/**
 * The typed registry and its contracts: what a payment method plugin and a processor
 * connector are written against. Nothing here knows any concrete method or processor.
 */
export * from './payment-method.ts';
export * from './processor.ts';
export * from './processor-state.ts';
export { keyedFingerprint } from './fingerprint.ts';
export { assertStructure, paramPath } from './structure.ts';
export { createRegistry, type AnyRegistry, type Registry, type RegistryOptions } from './create.ts';
