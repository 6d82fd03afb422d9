// Unit tests for the Hono glue: errors become OperationOutcomes, bodies are checked, resources carry version headers.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BusinessRuleViolation,
  type FhirError,
  InvalidRequest,
  NotFound,
  PreconditionFailed,
  ServiceUnavailable,
} from './errors.ts';
import {
  type ErrorLog,
  fhirErrorHandler,
  fhirNotFound,
  parseWith,
  readResource,
  sendResource,
  zodToInvalid,
} from './http.ts';
import type { OperationOutcome, Task } from './types.ts';

interface LogEntry {
  level: 'error' | 'warn';
  obj: object;
  msg: string;
}

function recordingLog(): ErrorLog & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
  };
}

/** An app whose only route throws `err`, with the FHIR error handler installed. */
function throwingApp(err: unknown, log: ErrorLog = recordingLog()): Hono {
  const app = new Hono();
  app.onError(fhirErrorHandler(log));
  app.get('/boom', () => {
    throw err;
  });
  return app;
}

async function outcomeOf(res: Response): Promise<OperationOutcome> {
  expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
  const body = (await res.json()) as OperationOutcome;
  expect(body.resourceType).toBe('OperationOutcome');
  return body;
}

describe('fhirErrorHandler', () => {
  it('answers each FhirError with its own status and an OperationOutcome saying what was wrong', async () => {
    const cases: [FhirError, number, string][] = [
      [
        new InvalidRequest('invalid-personnummer', 'Personnummer 1912 has a wrong check digit'),
        400,
        'invalid',
      ],
      [new NotFound('Task', 'abc'), 404, 'not-found'],
      [new PreconditionFailed('stale'), 412, 'conflict'],
      [new BusinessRuleViolation('needs-substitute', 'Name a substitute unit'), 422, 'business-rule'],
    ];
    for (const [err, status, code] of cases) {
      const res = await throwingApp(err).request('/boom');
      expect(res.status).toBe(status);
      const outcome = await outcomeOf(res);
      expect(outcome.issue).toHaveLength(1);
      expect(outcome.issue[0]?.severity).toBe('error');
      expect(outcome.issue[0]?.code).toBe(code);
      expect(outcome.issue[0]?.diagnostics).toBe(err.message);
      expect(outcome.issue[0]?.details?.coding?.[0]?.code).toBe(err.errorCode);
    }
  });

  it('gives each detail of an error its own issue with its expression', async () => {
    const err = new InvalidRequest('invalid-resource', [
      { diagnostics: 'status is required', expression: ['Task.status'] },
      { diagnostics: 'intent is required', expression: ['Task.intent'] },
    ]);
    const outcome = await outcomeOf(await throwingApp(err).request('/boom'));
    expect(outcome.issue.map((i) => [i.diagnostics, i.expression])).toEqual([
      ['status is required', ['Task.status']],
      ['intent is required', ['Task.intent']],
    ]);
  });

  it('logs a 5xx FhirError and marks its issue fatal', async () => {
    const log = recordingLog();
    const res = await throwingApp(new ServiceUnavailable('The database is not reachable'), log).request(
      '/boom',
    );
    expect(res.status).toBe(503);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]?.severity).toBe('fatal');
    expect(outcome.issue[0]?.code).toBe('transient');
    expect(log.entries.map((e) => e.level)).toEqual(['error']);
  });

  it('does not log a 4xx FhirError as an error', async () => {
    const log = recordingLog();
    await throwingApp(new NotFound('Task', 'x'), log).request('/boom');
    expect(log.entries).toEqual([]);
  });

  it('answers an unexpected error with 500 without revealing its message, and logs it', async () => {
    const log = recordingLog();
    const secret = new Error('connect ECONNREFUSED postgres://admin:hunter2@db:5432');
    const res = await throwingApp(secret, log).request('/boom');
    expect(res.status).toBe(500);
    const outcome = await outcomeOf(res);
    expect(outcome.issue).toHaveLength(1);
    expect(outcome.issue[0]?.severity).toBe('fatal');
    expect(outcome.issue[0]?.code).toBe('exception');
    const diagnostics = outcome.issue[0]?.diagnostics ?? '';
    expect(diagnostics).toBe('An internal error occurred; it has been logged');
    expect(JSON.stringify(outcome)).not.toContain('ECONNREFUSED');
    expect(JSON.stringify(outcome)).not.toContain('hunter2');
    expect(log.entries).toHaveLength(1);
    expect(log.entries[0]?.level).toBe('error');
    expect(log.entries[0]?.obj).toMatchObject({ err: secret });
  });

  it('names the trace id in a 500 so support can find the log entry', async () => {
    const app = new Hono();
    app.onError(fhirErrorHandler(recordingLog()));
    app.use(async (c, next) => {
      c.set('traceId' as never, '4bf92f3577b34da6a3ce929d0e0e4736' as never);
      await next();
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    const outcome = await outcomeOf(await app.request('/boom'));
    expect(outcome.issue[0]?.diagnostics).toBe(
      'An internal error occurred (trace id 4bf92f3577b34da6a3ce929d0e0e4736); it has been logged',
    );
  });

  it('answers a thrown ZodError with 400 and one issue per problem', async () => {
    const parsed = z.object({ a: z.string(), b: z.number() }).safeParse({});
    expect(parsed.success).toBe(false);
    const res = await throwingApp(parsed.error).request('/boom');
    expect(res.status).toBe(400);
    const outcome = await outcomeOf(res);
    expect(outcome.issue.flatMap((i) => i.expression)).toEqual(['Resource.a', 'Resource.b']);
  });

  it('keeps the status of a 4xx HTTPException from Hono middleware', async () => {
    const res = await throwingApp(new HTTPException(413, { message: 'Payload too large' })).request('/boom');
    expect(res.status).toBe(413);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]?.diagnostics).toBe('Payload too large');
  });
});

describe('readResource', () => {
  const app = new Hono();
  app.onError(fhirErrorHandler(recordingLog()));
  app.post('/Task', async (c) => c.json(await readResource(c, 'Task')));

  const post = (body: string, contentType?: string) =>
    app.request('/Task', {
      method: 'POST',
      // Bytes rather than a string, so the Request does not add a text/plain content type of its own.
      body: new TextEncoder().encode(body),
      headers: contentType ? { 'content-type': contentType } : {},
    });

  it('returns the body of a FHIR JSON resource of the expected type', async () => {
    const res = await post('{"resourceType":"Task","status":"requested"}', 'application/fhir+json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ resourceType: 'Task', status: 'requested' });
  });

  it('refuses a string holding a NUL or another control character FHIR forbids, naming where it is', async () => {
    const res = await post(
      '{"resourceType":"Task","note":[{"text":"ok"},{"text":"bad\\u0000here"}]}',
      'application/fhir+json',
    );
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue[0]?.diagnostics).toMatch(
      /^Task\.note\[1\]\.text contains a control character/,
    );
    const key = await post('{"resourceType":"Task","a\\u0001":1}', 'application/fhir+json');
    expect(key.status).toBe(400);
  });

  it('keeps tabs and line breaks, which FHIR strings allow', async () => {
    const res = await post('{"resourceType":"Task","description":"a\\tb\\r\\nc"}', 'application/fhir+json');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Task).description).toBe('a\tb\r\nc');
  });

  it('also accepts plain application/json', async () => {
    const res = await post('{"resourceType":"Task"}', 'application/json; charset=utf-8');
    expect(res.status).toBe(200);
  });

  it('answers 415 to a body that is not JSON, naming the content type it got', async () => {
    const res = await post('<Task/>', 'application/fhir+xml');
    expect(res.status).toBe(415);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]?.diagnostics).toBe(
      'Content-Type application/fhir+xml is not supported; send application/fhir+json',
    );
  });

  it('answers 415 to a body without a content type', async () => {
    const res = await post('{"resourceType":"Task"}');
    expect(res.status).toBe(415);
    expect((await outcomeOf(res)).issue[0]?.diagnostics).toContain('(none)');
  });

  it('answers 400 to invalid JSON', async () => {
    const res = await post('{"resourceType":', 'application/fhir+json');
    expect(res.status).toBe(400);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]?.details?.coding?.[0]?.code).toBe('invalid-json');
    expect(outcome.issue[0]?.diagnostics).toMatch(/^The body is not valid JSON: /);
  });

  it('answers 400 to a JSON array or a bare value', async () => {
    for (const body of ['[{"resourceType":"Task"}]', '"Task"', 'null']) {
      const res = await post(body, 'application/fhir+json');
      expect(res.status).toBe(400);
      expect((await outcomeOf(res)).issue[0]?.diagnostics).toBe(
        'The body must be a JSON object (a FHIR resource)',
      );
    }
  });

  it('answers 400 to a resource of another type, naming both types', async () => {
    const res = await post('{"resourceType":"Patient"}', 'application/fhir+json');
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue[0]?.diagnostics).toBe(
      "Expected resourceType 'Task' but got 'Patient'",
    );
  });

  it('answers 400 to an object without a resourceType', async () => {
    const res = await post('{"status":"requested"}', 'application/fhir+json');
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue[0]?.diagnostics).toBe("Expected resourceType 'Task' but got none");
  });

  it('answers 400 to a body over one megabyte', async () => {
    const big = JSON.stringify({ resourceType: 'Task', note: 'x'.repeat(1_000_001) });
    const res = await post(big, 'application/fhir+json');
    expect(res.status).toBe(400);
    expect((await outcomeOf(res)).issue[0]?.details?.coding?.[0]?.code).toBe('body-too-large');
  });
});

describe('zodToInvalid and parseWith', () => {
  const taskInput = z.object({
    resourceType: z.literal('Task'),
    input: z.array(z.object({ type: z.object({ text: z.string() }), valueString: z.string() })),
  });

  it('makes one issue per zod problem with a FHIRPath-like expression', () => {
    const result = taskInput.safeParse({
      resourceType: 'Task',
      input: [{ type: { text: 'a' }, valueString: 'b' }, {}],
    });
    expect(result.success).toBe(false);
    const err = zodToInvalid('Task', result.error as z.ZodError);
    expect(err).toBeInstanceOf(InvalidRequest);
    expect(err.status).toBe(400);
    expect(err.errorCode).toBe('invalid-resource');
    expect(err.details.map((d) => d.expression)).toEqual([
      ['Task.input[1].type'],
      ['Task.input[1].valueString'],
    ]);
    expect(err.details[0]?.diagnostics).toMatch(/^Task\.input\[1\]\.type: /);
  });

  it('uses the error code it is given', () => {
    const result = z.object({ a: z.string() }).safeParse({});
    expect(zodToInvalid('Consent', result.error as z.ZodError, 'invalid-consent').errorCode).toBe(
      'invalid-consent',
    );
  });

  it('returns the parsed value when it is valid', () => {
    const value = { resourceType: 'Task', input: [{ type: { text: 'reason' }, valueString: 'discharge' }] };
    expect(parseWith('Task', taskInput, value)).toEqual(value);
  });

  it('throws a 400 listing every problem when the value is invalid', () => {
    try {
      parseWith('Task', taskInput, { resourceType: 'Task', input: [{ type: {} }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidRequest);
      expect((err as InvalidRequest).details.flatMap((d) => d.expression)).toEqual([
        'Task.input[0].type.text',
        'Task.input[0].valueString',
      ]);
    }
  });
});

describe('sendResource', () => {
  const task: Task = {
    resourceType: 'Task',
    id: 'f1d2',
    status: 'requested',
    intent: 'order',
    meta: { versionId: '3', lastUpdated: '2026-11-22T09:30:00.000Z' },
  };

  function appSending(resource: Task, options?: Parameters<typeof sendResource>[2]): Hono {
    const app = new Hono();
    app.get('/r', (c) => sendResource(c, resource, options));
    return app;
  }

  it('sends the resource as FHIR JSON with a weak ETag and Last-Modified', async () => {
    const res = await appSending(task).request('/r');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    expect(res.headers.get('etag')).toBe('W/"3"');
    expect(res.headers.get('last-modified')).toBe('Sun, 22 Nov 2026 09:30:00 GMT');
    expect(res.headers.get('location')).toBeNull();
    expect(await res.json()).toEqual(task);
  });

  it('answers a create with 201 and a Location naming the version', async () => {
    const res = await appSending(task, { status: 201, location: 'https://sip.example.se/fhir' }).request(
      '/r',
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('https://sip.example.se/fhir/Task/f1d2/_history/3');
  });

  it('leaves out the version headers for a resource without meta', async () => {
    const bare: Task = { resourceType: 'Task', id: 'x', status: 'draft', intent: 'order' };
    const res = await appSending(bare, { location: 'https://h/fhir' }).request('/r');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('last-modified')).toBeNull();
    expect(res.headers.get('location')).toBe('https://h/fhir/Task/x');
  });
});

describe('fhirNotFound', () => {
  it('answers an unknown path with a 404 OperationOutcome naming the path', async () => {
    const app = new Hono();
    app.notFound(fhirNotFound);
    app.get('/fhir/Task', (c) => c.text('ok'));
    const res = await app.request('/fhir/Practitioner/1');
    expect(res.status).toBe(404);
    const outcome = await outcomeOf(res);
    expect(outcome.issue[0]?.code).toBe('not-supported');
    expect(outcome.issue[0]?.diagnostics).toBe('No FHIR interaction is served at /fhir/Practitioner/1');
  });
});
