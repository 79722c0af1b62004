/** @midlandsbank/node-nacha ships no types; the tests use `from(text).data` only. */
declare module '@midlandsbank/node-nacha' {
  const nacha: { from(source: string | { format: string; source: unknown }): { data: unknown; to(format: string): string } };
  export default nacha;
}
