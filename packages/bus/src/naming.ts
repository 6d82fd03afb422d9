// Applies a namespace to streams and subjects, so test files (and tenants, if ever) never share them.
import { DEAD_LETTER_PREFIX, type DEAD_LETTER_STREAM, STREAMS, type StreamName } from '@samsyn/contracts';

export class Naming {
  constructor(readonly namespace = '') {
    if (namespace && !/^[a-z0-9]+$/.test(namespace))
      throw new Error(`bus namespace must be [a-z0-9]+, got '${namespace}'`);
  }

  subject(subject: string): string {
    return this.namespace ? `${this.namespace}.${subject}` : subject;
  }

  /** The un-namespaced subject of a message, for routing and the envelope. */
  unprefix(subject: string): string {
    return this.namespace && subject.startsWith(`${this.namespace}.`)
      ? subject.slice(this.namespace.length + 1)
      : subject;
  }

  stream(name: StreamName | typeof DEAD_LETTER_STREAM): string {
    return this.namespace ? `${this.namespace.toUpperCase()}_${name}` : name;
  }

  streamSubjects(name: StreamName): string[] {
    return STREAMS[name].subjects.map((s) => this.subject(s));
  }

  deadLetterSubject(stream: StreamName, consumer: string): string {
    return this.subject(`${DEAD_LETTER_PREFIX}.${stream}.${consumer}`);
  }

  deadLetterSubjects(): string[] {
    return [this.subject(`${DEAD_LETTER_PREFIX}.>`)];
  }
}
