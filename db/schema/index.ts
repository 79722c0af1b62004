/** The whole drizzle schema. Each domain keeps its tables in its own file. */
export * from './tenancy';
export * from './payments';
export * from './webhooks';
export * from './processors';
export * from './payment-attempts';
