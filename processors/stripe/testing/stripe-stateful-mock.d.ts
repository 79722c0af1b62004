/** The one export of stripe-stateful-mock (which ships no types) that the cross-checks use. */
declare module 'stripe-stateful-mock' {
  export function createExpressApp(): { listen(port: number, hostname: string): import('node:http').Server };
}
