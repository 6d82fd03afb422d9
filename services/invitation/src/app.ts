// The invitation service's Task routes: create, read, search, and changes (answers, forward, withdraw).
import { GroupCommit } from '@samsyn/bus';
import type { Db, Tx } from '@samsyn/db';
import {
  assertFhirStrings,
  fhirBase,
  InvalidRequest,
  parseSearch,
  parseToken,
  type ResourceCapability,
  readResource,
  searchBundle,
  sendBundle,
  sendResource,
  type Task,
} from '@samsyn/fhir';
import { type AppEnv, type Auditor, requireScope } from '@samsyn/platform';
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { answerInvitation } from './answer-invitation/answer-invitation.ts';
import { interpretInitiativeChange, interpretInvitationChange } from './answer-invitation/interpret.ts';
import { initiativeTask, invitationTask } from './case/task.ts';
import type { InvitationConfig } from './config.ts';
import { initiateCase } from './initiate-case/initiate-case.ts';
import { readInitiative } from './initiate-case/initiative.ts';
import { type ReadResult, readTask, searchTasks, TASK_SEARCH_PARAMS } from './read-case/read-task.ts';
import { withdrawCase } from './withdraw-case/withdraw-case.ts';

export interface InvitationAppDeps {
  db: Db;
  /** Called after a commit that wrote to the outbox, so the relay publishes at once. */
  afterCommit: () => void;
  config: InvitationConfig;
  auditor: Auditor;
}

export const capability: ResourceCapability[] = [
  {
    type: 'Task',
    interactions: ['create', 'read', 'update', 'patch', 'search-type'],
    conditionalCreate: true,
    searchParams: [
      {
        name: 'identifier',
        type: 'token',
        documentation: "The record system's identifier of the initiative",
      },
      { name: 'requester', type: 'reference', documentation: 'HSA-id of the initiating unit' },
      { name: 'business-status', type: 'token', documentation: 'Case state (sip-case-status)' },
      { name: 'patient', type: 'reference', documentation: 'The person, by identifier (initiator only)' },
      { name: 'code', type: 'token', documentation: 'sip-initiative or sip-invitation' },
      { name: 'owner', type: 'reference', documentation: 'HSA-id of the invited unit (invitations)' },
      { name: 'status', type: 'token', documentation: 'Invitation status (invitations)' },
      { name: 'part-of', type: 'reference', documentation: 'The initiative an invitation belongs to' },
      { name: '_id', type: 'token' },
      { name: '_lastUpdated', type: 'date' },
    ],
    documentation: 'SIP initiatives (code sip-initiative) and invitations (code sip-invitation)',
  },
];

export function taskRoutes(deps: InvitationAppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, auditor } = deps;
  // Reads have no transaction of their own; their access-log entries share one with concurrent reads.
  const readLog = new GroupCommit(db, { afterCommit: deps.afterCommit });
  // Concurrent initiatives share a transaction too (each answered only after it committed).
  const creates = new GroupCommit(db, { afterCommit: deps.afterCommit });

  /** Logs an access to personal data; resolves once the entry is committed, before any data is returned. */
  async function logRead(
    c: Context<AppEnv>,
    entry: Omit<Parameters<Auditor['record']>[1], 'auth' | 'traceparent'>,
  ) {
    await readLog.run((tx) =>
      auditor.record(tx, { ...entry, auth: c.var.auth, traceparent: c.var.traceparent }),
    );
  }

  app.post('/', async (c) => {
    requireScope(c.var.auth, 'Task', 'c');
    const body = await readResource(c, 'Task');
    const command = readInitiative(body);
    const ifNoneExist = c.req.header('if-none-exist');
    if (ifNoneExist !== undefined) checkIfNoneExist(ifNoneExist, command.identifier);
    const result = await initiateCase(db, command, {
      callerOrg: c.var.auth.org,
      traceparent: c.var.traceparent,
      conditional: ifNoneExist !== undefined,
      config: deps.config,
      commit: (work) => creates.run(work),
      onCommit: (tx, row) =>
        auditor.record(tx, {
          auth: c.var.auth,
          interaction: 'create',
          patientKey: row.patientKey,
          caseId: row.id,
          resource: `Task/${row.id}`,
          traceparent: c.var.traceparent,
        }),
    });
    if (!result.created)
      await logRead(c, {
        interaction: 'read',
        patientKey: result.row.patientKey,
        caseId: result.row.id,
        resource: `Task/${result.row.id}`,
      });
    return sendResource(c, initiativeTask(result.row, result.invitations, c.var.auth.org, new Set()), {
      status: result.created ? 201 : 200,
      location: fhirBase(c),
    });
  });

  app.get('/', async (c) => {
    requireScope(c.var.auth, 'Task', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, TASK_SEARCH_PARAMS, { maxCount: 200 });
    const page = await searchTasks(db, search, c.var.auth.org);
    // One access-log entry per person the result shows (Patientdatalagen logs each patient's data accessed).
    const shown = page.rows.filter((_r, i) => page.personShown[i]);
    const query = new URL(c.req.url).search.slice(0, 2000);
    await readLog.run(async (tx) => {
      for (const row of shown.length > 0 ? shown : [undefined]) {
        await auditor.record(tx, {
          auth: c.var.auth,
          interaction: 'search-type',
          query,
          resource: row ? `Task/${row.id}` : 'Task',
          ...(row ? { patientKey: row.patientKey, caseId: row.id } : {}),
          traceparent: c.var.traceparent,
        });
      }
    });
    return sendBundle(
      c,
      searchBundle({ ...page, requestUrl: c.req.url, count: search.count, offset: search.offset }),
    );
  });

  app.get('/:id', async (c) => {
    requireScope(c.var.auth, 'Task', 'r');
    const result = await readTask(db, c.req.param('id'), c.var.auth.org);
    if (result.kind === 'initiative' && result.personShown) {
      await logRead(c, {
        interaction: 'read',
        patientKey: result.row.patientKey,
        caseId: result.row.id,
        resource: `Task/${result.row.id}`,
      });
    }
    return sendResource(c, result.task);
  });

  async function change(c: Context<AppEnv>, current: ReadResult, after: Task): Promise<Response> {
    const ifMatch = c.req.header('if-match');
    const common = {
      callerOrg: c.var.auth.org,
      traceparent: c.var.traceparent,
      ...(ifMatch ? { ifMatch } : {}),
      onCommit: (tx: Tx, row: { id: string; patientKey: string }) =>
        auditor.record(tx, {
          auth: c.var.auth,
          interaction: c.req.method === 'PUT' ? 'update' : 'patch',
          patientKey: row.patientKey,
          caseId: row.id,
          resource: `Task/${current.task.id}`,
          traceparent: c.var.traceparent,
        }),
    };
    if (current.kind === 'initiative') {
      const { reason, code } = interpretInitiativeChange(current.task, after);
      await withdrawCase(db, current.row.id, {
        ...common,
        ...(reason ? { reason } : {}),
        ...(code ? { code } : {}),
      });
    } else {
      const answer = interpretInvitationChange(current.task, after);
      const result = await answerInvitation(db, current.invitation.id, answer, {
        ...common,
        callerUser: c.var.auth.subject,
        config: deps.config,
      });
      if (answer.kind === 'forward') {
        // The sender no longer owns the invitation, so it could not read it back; it gets the Task it changed.
        deps.afterCommit();
        return sendResource(c, invitationTask(result.invitation, result.row));
      }
    }
    deps.afterCommit();
    return sendResource(c, (await readTask(db, current.task.id as string, c.var.auth.org)).task);
  }

  app.patch('/:id', async (c) => {
    requireScope(c.var.auth, 'Task', 'u');
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/json-patch\+json\b/i.test(contentType)) {
      throw new InvalidRequest(
        'unsupported-patch',
        'PATCH takes a JSON Patch (Content-Type: application/json-patch+json)',
      );
    }
    const current = await readTask(db, c.req.param('id'), c.var.auth.org);
    let operations: unknown;
    try {
      operations = JSON.parse(await c.req.text());
    } catch (err) {
      throw new InvalidRequest('invalid-json', `The JSON Patch is not valid JSON: ${(err as Error).message}`);
    }
    assertFhirStrings(operations, 'JSON Patch');
    if (!Array.isArray(operations))
      throw new InvalidRequest('invalid-patch', 'A JSON Patch is an array of operations');
    let after: Task;
    try {
      after = jsonpatch.applyPatch(
        structuredClone(current.task),
        operations as Operation[],
        true,
        false,
      ).newDocument;
    } catch (err) {
      throw new InvalidRequest(
        'invalid-patch',
        `The JSON Patch cannot be applied: ${(err as Error).message.split('\n')[0]}`,
      );
    }
    return change(c, current, after);
  });

  app.put('/:id', async (c) => {
    requireScope(c.var.auth, 'Task', 'u');
    const current = await readTask(db, c.req.param('id'), c.var.auth.org);
    const body = (await readResource(c, 'Task')) as unknown as Task;
    return change(c, current, body);
  });

  return app;
}

/** If-None-Exist must search on identifier and name the same identifier the Task carries. */
function checkIfNoneExist(header: string, identifier: { system: string; value: string } | undefined): void {
  const params = new URLSearchParams(header.replace(/^\?/, '').replace(/^Task\?/, ''));
  const keys = [...params.keys()];
  const value = params.get('identifier');
  if (keys.length !== 1 || !value) {
    throw new InvalidRequest(
      'invalid-if-none-exist',
      `If-None-Exist supports exactly one parameter, identifier=<system>|<value>; got '${header}'`,
    );
  }
  const token = parseToken(value);
  if (!identifier || token.system !== identifier.system || token.code !== identifier.value) {
    throw new InvalidRequest(
      'invalid-if-none-exist',
      `If-None-Exist names ${value}, which is not the Task's identifier${identifier ? ` ${identifier.system}|${identifier.value}` : ' (it has none)'}`,
    );
  }
}
