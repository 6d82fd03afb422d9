// The stream sequence from a JetStream reply subject, in both forms the server sends.
import type { JsMsg } from 'nats';
import { describe, expect, it } from 'vitest';
import { streamSequence } from './history.ts';

/** A message as nats.js hands it over: the reply subject, and `info` parsed from it only when asked for. */
function message(reply: string, fallback = -1): JsMsg {
  return { reply, info: { streamSequence: fallback } } as unknown as JsMsg;
}

describe('streamSequence', () => {
  it('reads the sequence from the reply subject without a domain', () => {
    expect(streamSequence(message('$JS.ACK.NS_INVITATION.ordered_x.1.4711.12.1700000000000000000.3'))).toBe(
      4711,
    );
  });

  it('reads the sequence from the reply subject with a domain and account', () => {
    expect(
      streamSequence(
        message('$JS.ACK.hub.ACCHASH.NS_INVITATION.ordered_x.2.90071.12.1700000000000000000.0.tok'),
      ),
    ).toBe(90071);
    expect(streamSequence(message('$JS.ACK._.ACCHASH.S.C.1.5.6.1700000000000000000.0'))).toBe(5);
  });

  it('leaves subjects it does not know to nats.js', () => {
    expect(streamSequence(message('_INBOX.abc', 17))).toBe(17);
    expect(streamSequence(message('$JS.ACK.S.C.1.x.6.7.8', 18))).toBe(18);
    expect(streamSequence(message('$JS.ACK.S.C.1', 19))).toBe(19);
  });
});
