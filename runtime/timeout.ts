/**
 * `promise`'s outcome, or a rejection once `ms` have passed (`Error: <what> within <ms> ms`).
 * The timer is cleared as soon as the promise settles, so nothing holds the event loop.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'no answer'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${Math.max(0, ms)} ms`)), Math.max(0, ms));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
