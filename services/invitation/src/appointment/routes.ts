// FHIR Appointment: the SIP meeting, its participants and their answers, and attendance afterwards.
import type { Db } from '@samsyn/db';
import {
  type Appointment,
  assertFhirStrings,
  fhirBase,
  InvalidRequest,
  parseSearch,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import {
  type AppEnv,
  type AuditInteraction,
  type Auditor,
  createAuditor,
  requireScope,
} from '@samsyn/platform';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { type Context, Hono } from 'hono';
import type { InvitationConfig } from '../config.ts';
import { type CaseRow, outbox } from '../db/schema.ts';
import { bookMeeting, changeMeeting, type MeetingResult } from '../schedule-meeting/schedule-meeting.ts';
import { MEETING_MODE_SYSTEM } from './codes.ts';
import { appointmentResource, readMeeting } from './meeting.ts';
import { APPOINTMENT_SEARCH_PARAMS, readAppointment, searchAppointments } from './read-appointment.ts';

export interface AppointmentDeps {
  db: Db;
  afterCommit: () => void;
  config: InvitationConfig;
  /** The access log (Patientdatalagen); one writing to this service's outbox when not given. */
  auditor?: Auditor;
}

/** This module's part of the CapabilityStatement. */
export const appointmentCapability: ResourceCapability = {
  type: 'Appointment',
  interactions: ['create', 'read', 'update', 'patch', 'search-type'],
  searchParams: [
    { name: 'supporting-info', type: 'reference', documentation: 'The SIP case: Task/<initiative id>' },
    {
      name: 'actor',
      type: 'reference',
      documentation: 'A participating unit by HSA-id: actor:identifier=urn:oid:1.2.752.29.4.19|<HSA-id>',
    },
    { name: 'date', type: 'date', documentation: 'When the meeting starts' },
    { name: 'status', type: 'token', documentation: 'booked, cancelled or fulfilled' },
    { name: '_id', type: 'token' },
    { name: '_lastUpdated', type: 'date' },
  ],
  versioning: 'versioned-update',
  documentation: `The SIP meeting. Mode in appointmentType (${MEETING_MODE_SYSTEM}); the case in supportingInformation; place, link or number in a contained Location. Only the initiating unit books, moves, cancels and records attendance; each participant changes its own participant.status. Updates need If-Match.`,
};

export function appointmentRoutes(deps: AppointmentDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db } = deps;
  const auditor = deps.auditor ?? createAuditor({ outbox, service: 'invitation' });

  function audit(c: Context<AppEnv>, interaction: AuditInteraction, row: CaseRow, resource: string) {
    return (tx: Parameters<Auditor['record']>[0]) =>
      auditor.record(tx, {
        auth: c.var.auth,
        interaction,
        patientKey: row.patientKey,
        caseId: row.id,
        resource,
        ...(c.var.traceparent ? { traceparent: c.var.traceparent } : {}),
      });
  }

  /** Reads have no transaction of their own; their access-log entries get one. */
  async function logReads(
    c: Context<AppEnv>,
    interaction: AuditInteraction,
    hits: { row: CaseRow; id: string }[],
  ) {
    if (hits.length === 0) return;
    await db.transaction(async (tx) => {
      for (const h of hits) await audit(c, interaction, h.row, `Appointment/${h.id}`)(tx);
    });
    deps.afterCommit();
  }

  function context(c: Context<AppEnv>, interaction: AuditInteraction) {
    return {
      callerOrg: c.var.auth.org,
      config: deps.config,
      ...(c.var.traceparent ? { traceparent: c.var.traceparent } : {}),
      onCommit: (tx: Parameters<Auditor['record']>[0], row: CaseRow, meeting: { id: string }) =>
        audit(c, interaction, row, `Appointment/${meeting.id}`)(tx),
    };
  }

  async function respond(c: Context<AppEnv>, result: MeetingResult): Promise<Response> {
    if (result.changed) deps.afterCommit();
    return sendResource(c, (await readAppointment(db, result.meeting.id, c.var.auth.org)).resource);
  }

  app.post('/', async (c) => {
    requireScope(c.var.auth, 'Appointment', 'c');
    const input = readMeeting(await readResource(c, 'Appointment'));
    const result = await bookMeeting(db, input, context(c, 'create'));
    deps.afterCommit();
    // The initiating unit booked it, so it sees everything it sent.
    return sendResource(c, appointmentResource(result.meeting, true), { status: 201, location: fhirBase(c) });
  });

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Appointment', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, APPOINTMENT_SEARCH_PARAMS, { maxCount: 200 });
    const { hits, total } = await searchAppointments(db, search, c.var.auth.org);
    await logReads(
      c,
      'search-type',
      hits.map((h) => ({ row: h.row, id: h.meeting.id })),
    );
    return sendBundle(
      c,
      searchBundle({
        resources: hits.map((h) => h.resource),
        total,
        requestUrl: c.req.url,
        count: search.count,
        offset: search.offset,
      }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Appointment', 'r');
    const hit = await readAppointment(db, c.req.param('id'), c.var.auth.org);
    await logReads(c, 'read', [{ row: hit.row, id: hit.meeting.id }]);
    return sendResource(c, hit.resource);
  });

  app.put('/:id', async (c) => {
    requireScope(c.var.auth, 'Appointment', 'u');
    // A meeting the caller cannot see answers 404 before anything about the body is said.
    await readAppointment(db, c.req.param('id'), c.var.auth.org);
    const body = await readResource(c, 'Appointment');
    if (body.id !== undefined && body.id !== c.req.param('id')) {
      throw new InvalidRequest(
        'id-mismatch',
        `Appointment.id ${String(body.id)} does not match the URL (${c.req.param('id')})`,
      );
    }
    const ifMatch = c.req.header('if-match');
    const result = await changeMeeting(db, c.req.param('id'), readMeeting(body), {
      ...context(c, 'update'),
      requireIfMatch: true,
      ...(ifMatch !== undefined ? { ifMatch } : {}),
    });
    return respond(c, result);
  });

  app.patch('/:id', async (c) => {
    requireScope(c.var.auth, 'Appointment', 'u');
    await readAppointment(db, c.req.param('id'), c.var.auth.org);
    if (!/^application\/json-patch\+json\b/i.test(c.req.header('content-type') ?? '')) {
      throw new InvalidRequest(
        'unsupported-patch',
        'PATCH takes a JSON Patch (Content-Type: application/json-patch+json)',
      );
    }
    let operations: unknown;
    try {
      operations = JSON.parse(await c.req.text());
    } catch (err) {
      throw new InvalidRequest('invalid-json', `The JSON Patch is not valid JSON: ${(err as Error).message}`);
    }
    assertFhirStrings(operations, 'JSON Patch');
    if (!Array.isArray(operations)) {
      throw new InvalidRequest('invalid-patch', 'A JSON Patch is an array of operations');
    }
    const ifMatch = c.req.header('if-match');
    const result = await changeMeeting(
      db,
      c.req.param('id'),
      (current) => readMeeting(applyPatch(current, operations as Operation[])),
      { ...context(c, 'patch'), ...(ifMatch !== undefined ? { ifMatch } : {}) },
    );
    return respond(c, result);
  });

  return app;
}

function applyPatch(current: Appointment, operations: Operation[]): Record<string, unknown> {
  let after: unknown;
  try {
    after = jsonpatch.applyPatch(structuredClone(current), operations, true, false).newDocument;
  } catch (err) {
    throw new InvalidRequest(
      'invalid-patch',
      `The JSON Patch cannot be applied: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (
    typeof after !== 'object' ||
    after === null ||
    (after as { resourceType?: unknown }).resourceType !== 'Appointment'
  ) {
    throw new InvalidRequest('invalid-patch', 'The JSON Patch must leave an Appointment');
  }
  if ((after as { id?: unknown }).id !== current.id) {
    throw new InvalidRequest('invalid-patch', 'The JSON Patch may not change Appointment.id');
  }
  return after as Record<string, unknown>;
}
