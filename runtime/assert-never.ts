/** Makes a switch exhaustive at compile time; reaching it at run time is a bug. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
