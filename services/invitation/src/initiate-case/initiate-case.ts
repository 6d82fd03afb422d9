// Use case: a record system initiates a SIP case; the case, its invitations and sip.case.initiated commit together.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import { type Db, pipeline, type Tx } from '@samsyn/db';
import { Forbidden, StateConflict } from '@samsyn/fhir';
import { patientKey } from '@samsyn/platform';
import { and, eq } from 'drizzle-orm';
import { SOURCE } from '../case/transition.ts';
import type { InvitationConfig } from '../config.ts';
import { type CaseRow, cases, type InvitationRow, invitations, outbox } from '../db/schema.ts';
import { scheduleCaseTimers } from '../deadlines/schedule.ts';
import { type InitiateCaseCommand, personAgeBand } from './initiative.ts';

export interface InitiateResult {
  created: boolean;
  row: CaseRow;
  invitations: InvitationRow[];
}

export interface InitiateContext {
  callerOrg: string;
  traceparent?: string;
  /** When true (If-None-Exist on identifier), an existing case with the same identifier is returned. */
  conditional: boolean;
  config: InvitationConfig;
  /** More writes for the create's own transaction (the access-log entry). */
  onCommit?: (tx: Tx, row: CaseRow) => Promise<void>;
  /**
   * Runs the create's writes in a transaction and resolves once it committed; default a transaction of its own.
   * The API passes a GroupCommit, so concurrent creates share one (a failing one is retried alone).
   */
  commit?: (work: (tx: Tx) => Promise<unknown>) => Promise<void>;
  now?: Date;
}

export async function initiateCase(
  db: Db,
  command: InitiateCaseCommand,
  ctx: InitiateContext,
): Promise<InitiateResult> {
  if (command.requesterOrg !== ctx.callerOrg) {
    throw new Forbidden(
      `Task.requester names ${command.requesterOrg}, but the token acts for ${ctx.callerOrg}; a unit initiates only in its own name`,
    );
  }
  if (ctx.conditional && command.identifier) {
    const existing = await findByIdentifier(db, command.requesterOrg, command.identifier);
    if (existing) return { created: false, ...existing };
  }
  const now = ctx.now ?? new Date();
  const caseId = randomUUID();
  const caseRow = {
    id: caseId,
    requesterOrg: command.requesterOrg,
    identifierSystem: command.identifier?.system ?? null,
    identifierValue: command.identifier?.value ?? null,
    patientIdSystem: command.patient.system,
    patientIdValue: command.patient.value,
    patientKey: patientKey(ctx.config.PATIENT_KEY_SECRET, command.patient.system, command.patient.value),
    protectedIdentity: command.protectedIdentity,
    statusReason: null,
    status: 'awaiting-consent',
    trigger: command.trigger,
    dischargeReadyAt: command.dischargeReadyAt ?? null,
    versionId: 1,
    lastUpdated: now,
    createdAt: now,
    resource: stripOwnedFields(command.resource),
  } satisfies CaseRow;
  const invitationRows = command.invitees.map(
    (inv) =>
      ({
        id: randomUUID(),
        caseId,
        org: inv.org,
        kind: inv.kind,
        status: 'requested',
        reason: null,
        substituteOrg: null,
        replaces: null,
        forwardedFrom: [],
        answeredAt: null,
        answeredBy: null,
        versionId: 1,
        lastUpdated: now,
        createdAt: now,
      }) satisfies InvitationRow,
  );
  try {
    // One round trip for all writes (pipeline); the case goes first, everything after references it.
    const commit =
      ctx.commit ?? (async (work: (tx: Tx) => Promise<unknown>) => void (await db.transaction(work)));
    await commit((tx) =>
      pipeline([
        () => tx.insert(cases).values(caseRow),
        () => tx.insert(invitations).values(invitationRows),
        () => scheduleCaseTimers(tx, caseRow, invitationRows, ctx.config, now),
        () => ctx.onCommit?.(tx, caseRow),
        () =>
          enqueue(
            tx,
            outbox,
            events.caseInitiated,
            {
              caseId,
              requesterOrg: command.requesterOrg,
              trigger: command.trigger,
              ...(command.dischargeReadyAt
                ? { dischargeReadyAt: command.dischargeReadyAt.toISOString() }
                : {}),
              initiatedAt: now.toISOString(),
              person: { ageBand: personAgeBand(command.patient.birthDate, now) },
              invitations: invitationRows.map((r) => ({
                invitationId: r.id,
                org: r.org,
                kind: r.kind as 'summoned' | 'invited',
              })),
            },
            {
              aggregate: caseId,
              source: SOURCE,
              time: now,
              ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
            },
          ),
      ]),
    );
  } catch (err) {
    if (!isUniqueViolation(err) || !command.identifier) throw err;
    // Same identifier committed meanwhile (or before, without If-None-Exist).
    const existing = await findByIdentifier(db, command.requesterOrg, command.identifier);
    if (ctx.conditional && existing) return { created: false, ...existing };
    throw new StateConflict(
      'duplicate-identifier',
      `An initiative with identifier ${command.identifier.system}|${command.identifier.value} exists already` +
        (existing ? ` (Task/${existing.row.id})` : '') +
        '; send If-None-Exist: identifier=<system>|<value> to get it back instead of an error',
    );
  }
  return { created: true, row: caseRow, invitations: invitationRows };
}

async function findByIdentifier(db: Db, org: string, identifier: { system: string; value: string }) {
  const [row] = await db
    .select()
    .from(cases)
    .where(
      and(
        eq(cases.requesterOrg, org),
        eq(cases.identifierSystem, identifier.system),
        eq(cases.identifierValue, identifier.value),
      ),
    )
    .limit(1);
  if (!row) return undefined;
  const invs = await db.select().from(invitations).where(eq(invitations.caseId, row.id));
  return { row, invitations: invs };
}

/** Samsyn owns id, meta, status, businessStatus and input references; it keeps the rest as sent. */
function stripOwnedFields(resource: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, meta: _meta, businessStatus: _bs, lastModified: _lm, ...rest } = resource;
  return rest;
}

function isUniqueViolation(err: unknown): boolean {
  const code =
    (err as { code?: string; cause?: { code?: string } })?.code ??
    (err as { cause?: { code?: string } })?.cause?.code;
  return code === '23505';
}
