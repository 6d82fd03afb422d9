import { events, fromHeaders } from '@samsyn/contracts';
import { prng } from '@samsyn/testkit/prng';
import type { JsMsg } from 'nats';
import { describe, expect, it } from 'vitest';
import { PROJECTED_EVENTS } from '../projection/case-state.ts';
import { envelopeEvent, envelopeType, headerLookup, rawHeaderBlock } from './history.ts';

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

describe('envelopeType, the byte scan the history thread uses', () => {
  const valid = [
    'ce-specversion: 1.0',
    'ce-id: 3f1c2a4e-8d2b-4c1a-9e7f-1a2b3c4d5e6f',
    `ce-type: ${events.caseInitiated.type}`,
    'ce-source: urn:samsyn:invitation',
    'ce-time: 2026-03-30T22:15:00.000Z',
    'ce-subject: 849d73eb-438a-4907-ad09-0402c802d7c5',
    'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'Nats-Msg-Id: 3f1c2a4e-8d2b-4c1a-9e7f-1a2b3c4d5e6f',
    'content-type: application/json',
  ];
  /** What the envelope check of the live consumers says: the type of an accepted envelope, or undefined. */
  const expected = (msg: JsMsg) => {
    const envelope = fromHeaders(headerLookup(msg));
    return envelope.ok ? envelope.attrs.type : undefined;
  };
  const scanned = (msg: JsMsg) => {
    const block = rawHeaderBlock(msg);
    const type = block ? envelopeType(block) : undefined;
    // The statistics event it names, found on the bytes, is the one its type names.
    expect(block ? envelopeEvent(block) : undefined).toBe(
      PROJECTED_EVENTS.find((name) => events[name].type === type),
    );
    return type;
  };

  it('reads the type of a valid envelope, and turns away each way of breaking one', () => {
    expect(scanned(rawMessage(valid))).toBe(events.caseInitiated.type);
    // The statistics event of a type, found on the bytes: exactly its type, trimmed, and no other.
    const typed = (line: string) =>
      envelopeEvent(
        rawHeaderBlock(rawMessage(valid.map((l) => (l.startsWith('ce-type') ? line : l)))) as Uint8Array,
      );
    const closed = events.planClosed.type;
    expect(typed(`ce-type: ${events.caseInitiated.type}`)).toBe('caseInitiated');
    expect(typed(`ce-type:${closed}  `)).toBe('planClosed');
    expect(typed(`ce-type: ${closed.slice(0, -1)}`)).toBeUndefined();
    expect(typed(`ce-type: ${closed}2`)).toBeUndefined();
    expect(typed(`ce-type: ${closed.toUpperCase()}`)).toBeUndefined();
    expect(typed(`ce-type: ${closed}\u00a0`)).toBe('planClosed');
    expect(typed('ce-type: samsyn.case.initiated.v1')).toBeUndefined();
    const without = (prefix: string) => valid.filter((l) => !l.startsWith(prefix));
    const cases: [string[], string | undefined][] = [
      [without('ce-id'), undefined],
      [without('ce-subject'), undefined],
      [valid.map((l) => (l.startsWith('ce-specversion') ? 'ce-specversion: 0.3' : l)), undefined],
      [
        valid.map((l) => (l.startsWith('ce-specversion') ? 'ce-specversion:1.0 ' : l)),
        events.caseInitiated.type,
      ],
      [valid.map((l) => (l.startsWith('ce-time') ? 'ce-time:   ' : l)), undefined],
      // The first line of a name counts, even if a later one would have done.
      [['ce-source:', ...valid], undefined],
      [['ce-type: samsyn.plan.closed.v1', ...valid], 'samsyn.plan.closed.v1'],
      // Another name, however alike, is not the header.
      [valid.map((l) => l.replace('ce-subject:', 'CE-SUBJECT:')), undefined],
      [valid.map((l) => l.replace('ce-subject:', 'ce-subject :')), undefined],
      [['ce-types: samsyn.x', ...without('ce-type')], undefined],
      // A value of Unicode spaces only is empty once trimmed, as String.prototype.trim has it.
      [valid.map((l) => (l.startsWith('ce-id') ? 'ce-id: \u00a0\u2003' : l)), undefined],
      [valid.map((l) => (l.startsWith('ce-id') ? 'ce-id: åäö' : l)), events.caseInitiated.type],
    ];
    for (const [lines, type] of cases) {
      const msg = rawMessage(lines);
      expect(scanned(msg), lines.join(' | ')).toBe(type);
      expect(scanned(msg), lines.join(' | ')).toBe(expected(msg));
    }
  });

  it('agrees with the envelope check on thousands of damaged header blocks', () => {
    const rand = prng(20261124);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const noise = [
      '',
      ' ',
      '\t',
      '\r',
      '\n',
      ':',
      '\u00a0',
      '\ufeff',
      'é',
      '\ud83d\ude00',
      'x',
      '1.0',
      '\r\n',
    ];
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      let lines = [...valid];
      for (let edits = Math.floor(rand() * 4); edits > 0; edits--) {
        const i = Math.floor(rand() * lines.length);
        const line = lines[i] ?? '';
        const at = Math.floor(rand() * (line.length + 1));
        switch (pick(['drop', 'insert', 'replace', 'duplicate', 'value'] as const)) {
          case 'drop':
            lines.splice(i, 1);
            break;
          case 'insert':
            lines[i] = line.slice(0, at) + pick(noise) + line.slice(at);
            break;
          case 'replace':
            lines[i] = line.slice(0, at) + pick(noise) + line.slice(at + 1);
            break;
          case 'duplicate':
            lines = [...lines.slice(0, i), `${line.split(':')[0]}:${pick(noise)}`, ...lines.slice(i)];
            break;
          case 'value':
            lines[i] = `${line.split(':')[0]}:${pick(noise)}${pick(noise)}`;
            break;
        }
      }
      const msg = rawMessage(lines);
      const type = expected(msg);
      if (type !== undefined) accepted += 1;
      expect(scanned(msg), JSON.stringify(lines)).toBe(type);
    }
    // Both outcomes were exercised, many times each.
    expect(accepted).toBeGreaterThan(500);
    expect(accepted).toBeLessThan(4500);
  });
});
