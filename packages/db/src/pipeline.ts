// Pipelining: the statements of one transaction sent together instead of one round trip each.

/**
 * Starts every step in the order given without waiting for the answers, then waits for all of them and returns
 * their results in the same order. postgres.js
 * writes statements issued together in one socket write, and PostgreSQL runs them in the order received, so a
 * step may depend on an earlier one (a row and then the rows that reference it). A step must issue its first
 * statement before awaiting anything else, which every insert builder and write helper here does. Inside a
 * transaction, the first failure aborts the rest and is the error thrown.
 *
 * Use it for writes whose results are not needed to build the next statement: a case, its invitations, their
 * timers and the outbox event cost one round trip instead of five.
 */
export async function pipeline<const T extends readonly (() => PromiseLike<unknown> | undefined)[]>(
  steps: T,
): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  // Promise.resolve calls each builder's then() (which sends the statement) in this same order.
  const started = steps.map((step) => Promise.resolve(step()));
  const results = await Promise.allSettled(started);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as never;
}
