// What an update changes besides the status: a Consent documents what the person agreed to, so it is immutable.

/** Samsyn owns these elements; a client may send them back as read without it counting as a change. */
const OWNED = new Set(['id', 'meta', 'status']);

/** The top-level elements where `sent` differs from `stored` (key order does not matter, array order does). */
export function changedElements(stored: Record<string, unknown>, sent: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(stored), ...Object.keys(sent)]);
  return [...keys].filter((k) => !OWNED.has(k) && !sameJson(stored[k], sent[k])).sort();
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
    );
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  // An absent element and one set to undefined are the same in JSON.
  return [...keys].every((k) => sameJson(ao[k], bo[k]));
}
