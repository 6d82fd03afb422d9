// Unit tests for weak ETags and If-Match version checks.
import { describe, expect, it } from 'vitest';
import { PreconditionFailed } from './errors.ts';
import { etag, parseIfMatch, requireIfMatch } from './etag.ts';

/** Runs `fn`, expecting a 412, and returns its message. */
function preconditionMessage(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PreconditionFailed);
    expect((err as PreconditionFailed).status).toBe(412);
    expect((err as PreconditionFailed).errorCode).toBe('version-conflict');
    return (err as Error).message;
  }
  throw new Error('expected a PreconditionFailed to be thrown');
}

describe('etag', () => {
  it('makes a weak ETag from a version id, whether given as text or number', () => {
    expect(etag('3')).toBe('W/"3"');
    expect(etag(12)).toBe('W/"12"');
  });
});

describe('parseIfMatch', () => {
  it('reads the version from a weak ETag, a quoted ETag and a bare version', () => {
    expect(parseIfMatch('W/"3"')).toBe('3');
    expect(parseIfMatch('"3"')).toBe('3');
    expect(parseIfMatch('3')).toBe('3');
  });

  it('ignores surrounding whitespace', () => {
    expect(parseIfMatch('  W/"7"  ')).toBe('7');
  });

  it('reads no version from a missing or blank header', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch(null)).toBeUndefined();
    expect(parseIfMatch('   ')).toBeUndefined();
  });

  it('reads no version from a header with several ETags', () => {
    expect(parseIfMatch('W/"1", W/"2"')).toBeUndefined();
  });
});

describe('requireIfMatch', () => {
  it('lets an update through when If-Match names the current version in any accepted form', () => {
    for (const header of ['W/"3"', '"3"', '3']) {
      expect(() => requireIfMatch(header, 3)).not.toThrow();
      expect(() => requireIfMatch(header, '3')).not.toThrow();
    }
  });

  it('answers 412 when If-Match is missing, naming the current version', () => {
    expect(preconditionMessage(() => requireIfMatch(undefined, 4))).toBe(
      'This update needs an If-Match header naming the version you edited (current is W/"4")',
    );
    expect(preconditionMessage(() => requireIfMatch('', 4))).toContain('needs an If-Match header');
  });

  it('answers 412 when If-Match names a stale version, naming both versions', () => {
    expect(preconditionMessage(() => requireIfMatch('W/"3"', 4))).toBe(
      'If-Match W/"3" does not match the current version W/"4"; read the resource again and reapply your change',
    );
  });

  it('does not treat a version as a prefix of another', () => {
    expect(preconditionMessage(() => requireIfMatch('W/"1"', 10))).toContain('W/"10"');
  });
});
