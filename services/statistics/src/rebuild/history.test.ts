import type { JsMsg } from 'nats';
import { describe, expect, it } from 'vitest';
import { headerLookup, rawHeaderBlock } from './history.ts';

/** A message as nats.js holds it: the raw bytes with the header block first, and where that block ends. */
function rawMessage(headerLines: string[] | null, body = '{}'): JsMsg {
  const block = headerLines === null ? '' : `NATS/1.0\r\n${headerLines.map((l) => `${l}\r\n`).join('')}\r\n`;
  const bytes = new TextEncoder().encode(block + body);
  const hdr = headerLines === null ? -1 : new TextEncoder().encode(block).length;
  return { msg: { _rdata: bytes, _msg: { hdr } } } as unknown as JsMsg;
}

describe('headerLookup on the raw header block', () => {
  it('finds each header by its exact name, first value, trimmed', () => {
    const lookup = headerLookup(
      rawMessage([
        'ce-typex: not this one',
        'ce-type:  samsyn.invitation.created.v1 ',
        'ce-type: a second value',
        'CE-ID: upper case is another name',
        'ce-id:abc',
        'ce-empty:',
        'ce-source: urn:samsyn:invitation',
      ]),
    );
    expect(lookup('ce-type')).toBe('samsyn.invitation.created.v1');
    expect(lookup('ce-id')).toBe('abc');
    expect(lookup('CE-ID')).toBe('upper case is another name');
    // A value with a colon in it is whole; an empty value and a missing name are both absent.
    expect(lookup('ce-source')).toBe('urn:samsyn:invitation');
    expect(lookup('ce-empty')).toBeUndefined();
    expect(lookup('ce-subject')).toBeUndefined();
    // The status line is not a header.
    expect(lookup('NATS/1.0')).toBeUndefined();
  });

  it('gives nothing for a message without headers, and the raw block only where nats.js has one', () => {
    const none = rawMessage(null);
    expect(rawHeaderBlock(none)).toBeNull();
    expect(headerLookup(none)('ce-type')).toBeUndefined();
    expect(rawHeaderBlock({ msg: {} } as unknown as JsMsg)).toBeUndefined();
  });
});
