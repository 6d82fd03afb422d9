// Reading the JetStream history: the statistics events in a range of a stream's messages, decoded the way the live
// consumers decode them. Shared by the rebuild's main thread and its history thread (history-worker.ts).
import type { Bus } from '@samsyn/bus';
import {
  CE_HEADERS,
  CE_SPECVERSION,
  events,
  fromHeaders,
  type HeaderLookup,
  type StreamName,
} from '@samsyn/contracts';
import { DeliverPolicy, type JsMsg } from 'nats';
import {
  type AnyProjected,
  PROJECTED_EVENTS,
  PROJECTED_STREAMS,
  type ProjectedEvent,
} from '../projection/case-state.ts';

const NAME_OF = new Map<string, ProjectedEvent>(
  PROJECTED_EVENTS.map((name) => [events[name].type, name] as const),
);

type RawMessage = { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } };

/**
 * The header block of a message as nats.js received it, or undefined when its internals are not the expected shape.
 * nats.js turns headers into a map on first access, which took more CPU than JSON parsing and validation together;
 * the rebuild reads a few headers of every message in the history, so it scans the block itself.
 */
export function rawHeaderBlock(msg: JsMsg): Uint8Array | null | undefined {
  const inner = (msg as unknown as RawMessage).msg;
  const data = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof hdr !== 'number') return undefined;
  return hdr > -1 ? data.subarray(0, hdr) : null;
}

/** `\r\n<name>:`, what starts the line of a header, per name looked up. */
const NEEDLES = new Map<string, string>();

/**
 * Looks up headers the way `msg.headers.get` does (exact name, first value), by searching the block's text for the
 * line of each name asked for: a map of every header line cost more than the rest of the envelope check.
 */
export function headerLookup(msg: JsMsg, decoder = new TextDecoder()): HeaderLookup {
  const block = rawHeaderBlock(msg);
  if (block === undefined) return (name) => msg.headers?.get(name) || undefined;
  if (block === null) return () => undefined;
  // The first line is the status line (NATS/1.0), then `name: value` lines, each after a CRLF.
  const text = decoder.decode(block);
  // The envelope check asks for most names twice: answers kept per message, by name (the same string constants).
  const asked: string[] = [];
  const answers: (string | undefined)[] = [];
  return (name) => {
    for (let i = 0; i < asked.length; i++) if (asked[i] === name) return answers[i];
    const value = find(name);
    asked.push(name);
    answers.push(value);
    return value;
  };

  function find(name: string): string | undefined {
    let needle = NEEDLES.get(name);
    if (needle === undefined) {
      needle = `\r\n${name}:`;
      if (NEEDLES.size < 1000) NEEDLES.set(name, needle);
    }
    const at = text.indexOf(needle);
    if (at < 0) return undefined;
    const start = at + needle.length;
    const end = text.indexOf('\r\n', start);
    return (end < 0 ? text.slice(start) : text.slice(start, end)).trim() || undefined;
  }
}

/** The statistics event in one stream message, or undefined for events statistics does not read or cannot parse. */
export function decode(msg: JsMsg, decoder = new TextDecoder()): AnyProjected | undefined {
  const name = eventName(msg, decoder);
  return name === undefined ? undefined : decodeBody(name, msg.data, decoder);
}

/** Which statistics event a message holds, by its envelope; undefined for other events and broken envelopes. */
export function eventName(msg: JsMsg, decoder = new TextDecoder()): ProjectedEvent | undefined {
  const block = rawHeaderBlock(msg);
  if (block === undefined) {
    const envelope = fromHeaders(headerLookup(msg, decoder));
    return envelope.ok ? NAME_OF.get(envelope.attrs.type) : undefined;
  }
  return block === null ? undefined : envelopeEvent(block, decoder);
}

/** The envelope's required headers, as `fromHeaders` checks them: specversion first, then the others. */
const REQUIRED = [
  CE_HEADERS.specversion,
  CE_HEADERS.type,
  CE_HEADERS.id,
  CE_HEADERS.source,
  CE_HEADERS.time,
  CE_HEADERS.subject,
].map((name) => new TextEncoder().encode(`${name}:`));
const TYPE = 1;
const SPECVERSION = new TextEncoder().encode(CE_SPECVERSION);
/** Where each required header's first value starts and ends in the block being read (reused, one thread each). */
const valueStart = new Int32Array(REQUIRED.length);
const valueEnd = new Int32Array(REQUIRED.length);

type Decoder = InstanceType<typeof TextDecoder>;

const CR = 13;
const LF = 10;

/**
 * The `ce-type` of a raw header block whose envelope `fromHeaders(headerLookup(…))` accepts, else undefined: the
 * same lookup (a header is the first line after the status line that starts with its exact name and a colon; its
 * value up to the line's CRLF, trimmed, empty meaning absent), read from the bytes in one pass. Decoding the block
 * and searching it once per name was a fifth of the history thread's time.
 */
export function envelopeType(block: Uint8Array, decoder = new TextDecoder()): string | undefined {
  if (!envelopeFound(block, decoder)) return undefined;
  return trimmedText(block, valueStart[TYPE] as number, valueEnd[TYPE] as number, decoder);
}

/** The `ce-type` of each statistics event, as bytes. */
const TYPE_BYTES = [...NAME_OF].map(([type, name]) => [new TextEncoder().encode(type), name] as const);

/**
 * The statistics event `envelopeType(block)` names, or undefined (another event, or a broken envelope): the type's
 * bytes compared with the statistics events' types, without decoding it and looking the text up (what was left of
 * the envelope check's cost on the history thread).
 */
export function envelopeEvent(block: Uint8Array, decoder = new TextDecoder()): ProjectedEvent | undefined {
  if (!envelopeFound(block, decoder)) return undefined;
  let from = valueStart[TYPE] as number;
  let to = valueEnd[TYPE] as number;
  if (!isAscii(block, from, to)) return NAME_OF.get(trimmedText(block, from, to, decoder) ?? '');
  while (from < to && isAsciiSpace(block[from] as number)) from++;
  while (to > from && isAsciiSpace(block[to - 1] as number)) to--;
  next: for (const [type, name] of TYPE_BYTES) {
    if (type.length !== to - from) continue;
    for (let k = 0; k < type.length; k++) if (block[from + k] !== type[k]) continue next;
    return name;
  }
  return undefined;
}

/** Whether the block holds an envelope `fromHeaders` accepts; if so, `valueStart`/`valueEnd` locate its values. */
function envelopeFound(block: Uint8Array, decoder: Decoder): boolean {
  valueStart.fill(-1);
  let missing = REQUIRED.length;
  let line = nextLine(block, 0);
  while (line >= 0 && missing > 0) {
    const next = nextLine(block, line);
    const end = next < 0 ? block.length : next - 2;
    for (let h = 0; h < REQUIRED.length; h++) {
      if (valueStart[h] !== -1) continue;
      const name = REQUIRED[h] as Uint8Array;
      if (line + name.length > end) continue;
      let same = true;
      for (let k = 0; k < name.length; k++)
        if (block[line + k] !== name[k]) {
          same = false;
          break;
        }
      if (!same) continue;
      valueStart[h] = line + name.length;
      valueEnd[h] = end;
      missing -= 1;
      break;
    }
    line = next;
  }
  if (missing > 0) return false;
  for (let h = 0; h < REQUIRED.length; h++)
    if (!hasText(block, valueStart[h] as number, valueEnd[h] as number, decoder)) return false;
  return isSpecVersion(block, valueStart[0] as number, valueEnd[0] as number, decoder);
}

/** Where the line after the next CRLF at or after `from` starts, or -1 if there is no CRLF. */
function nextLine(block: Uint8Array, from: number): number {
  for (let at = block.indexOf(CR, from); at >= 0; at = block.indexOf(CR, at + 1))
    if (block[at + 1] === LF) return at + 2;
  return -1;
}

/** What `String.prototype.trim` removes, of the ASCII characters. */
function isAsciiSpace(byte: number): boolean {
  return byte === 32 || (byte >= 9 && byte <= 13);
}

function isAscii(block: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((block[i] as number) >= 0x80) return false;
  return true;
}

/** Whether the value is not empty once trimmed (non-ASCII values are decoded and trimmed as the lookup does). */
function hasText(block: Uint8Array, start: number, end: number, decoder: Decoder): boolean {
  if (!isAscii(block, start, end)) return trimmedText(block, start, end, decoder) !== undefined;
  for (let i = start; i < end; i++) if (!isAsciiSpace(block[i] as number)) return true;
  return false;
}

function isSpecVersion(block: Uint8Array, start: number, end: number, decoder: Decoder): boolean {
  if (!isAscii(block, start, end)) return trimmedText(block, start, end, decoder) === CE_SPECVERSION;
  let from = start;
  let to = end;
  while (from < to && isAsciiSpace(block[from] as number)) from++;
  while (to > from && isAsciiSpace(block[to - 1] as number)) to--;
  if (to - from !== SPECVERSION.length) return false;
  for (let k = 0; k < SPECVERSION.length; k++) if (block[from + k] !== SPECVERSION[k]) return false;
  return true;
}

function trimmedText(block: Uint8Array, start: number, end: number, decoder: Decoder): string | undefined {
  return decoder.decode(block.subarray(start, end)).trim() || undefined;
}

/** The event in a message body of the named event, or undefined if it is not JSON or breaks the event's contract. */
export function decodeBody(
  name: ProjectedEvent,
  data: Uint8Array,
  decoder = new TextDecoder(),
): AnyProjected | undefined {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  // The live consumer dead-letters what does not match its contract; the rebuild skips the same messages.
  const parsed = events[name].schema.safeParse(body);
  return parsed.success ? ({ name, data: parsed.data } as AnyProjected) : undefined;
}

export async function lastSequences(bus: Bus): Promise<Map<StreamName, number>> {
  const out = new Map<StreamName, number>();
  for (const stream of PROJECTED_STREAMS) {
    try {
      const info = await bus.jsm.streams.info(bus.naming.stream(stream));
      out.set(stream, info.state.messages > 0 ? info.state.last_seq : 0);
    } catch {
      out.set(stream, 0);
    }
  }
  return out;
}

/**
 * Reads stream messages with sequence in (after, upTo] in order, through an ordered consumer that keeps a large
 * buffer of messages on the way and hands each to a callback (no promise per message).
 */
export async function readRange(
  bus: Bus,
  stream: StreamName,
  after: number,
  upTo: number,
  onMessage: (msg: JsMsg) => void,
): Promise<void> {
  if (upTo <= after) return;
  const name = bus.naming.stream(stream);
  const consumer = await bus.js.consumers.get(name, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: after + 1,
  });
  let last = after;
  let settle: (err?: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const messages = await consumer.consume({
    max_messages: READ_BUFFER,
    callback: (msg) => {
      // Parsed once from the reply subject by the ordered consumer already (it checks the delivery sequence).
      const seq = msg.info.streamSequence;
      if (last >= upTo) return;
      // Past the end (what was left of the range was deleted meanwhile): the range is done.
      if (seq > upTo) return settle();
      last = seq;
      try {
        onMessage(msg);
      } catch (err) {
        return settle(err);
      }
      if (last >= upTo) settle();
    },
  });
  // Nothing arriving for a while: done if the rest of the range was deleted, an error if it is there but not coming.
  let seen = last;
  let idle = 0;
  const watchdog = setInterval(() => {
    if (last !== seen) {
      seen = last;
      idle = 0;
      return;
    }
    idle += 1;
    if (idle < 3) return;
    bus.jsm.streams.info(name).then((info) => {
      if (info.state.last_seq <= last || info.state.messages === 0) settle();
      else if (idle >= 20)
        settle(new Error(`rebuild: ${stream} stopped delivering at sequence ${last} of ${upTo}`));
    }, settle);
  }, 1000);
  try {
    await finished;
  } finally {
    clearInterval(watchdog);
    await messages.close();
  }
}

/** Messages the reading consumer asks for ahead (a few MB of small events). */
const READ_BUFFER = 20_000;
