// Renders stored cases and invitations as FHIR Tasks, showing each caller only what it may see.
import { CASE_STATUS_SYSTEM, HSA_SYSTEM, TASK_CODE_SYSTEM, TASK_INPUT_SYSTEM, type Task } from '@samsyn/fhir';
import type { CaseRow, InvitationRow } from '../db/schema.ts';

/** The group identifier shared by the initiative and its invitations (SPEC §5). */
export function groupIdentifier(caseId: string) {
  return { system: 'https://samsyn.se/fhir/sid/sip-case', value: caseId };
}

/**
 * The initiative as the caller may see it. The initiating unit sees all it sent. Another unit sees the person
 * only while the active consent covers it (SPEC §3, §7), and never the address or contact details of a person
 * with protected identity.
 */
export function initiativeTask(
  row: CaseRow,
  invitations: InvitationRow[],
  viewerOrg: string,
  covered: ReadonlySet<string>,
): Task {
  const sent = row.resource as Partial<Task>;
  const personShown = viewerOrg === row.requesterOrg || covered.has(viewerOrg);
  const view =
    viewerOrg === row.requesterOrg
      ? withoutContainedLabels(sent)
      : covered.has(viewerOrg)
        ? row.protectedIdentity
          ? withoutContactData(withoutContainedLabels(sent))
          : withoutContainedLabels(sent)
        : withoutPersonData(sent);
  // resourceType, id and meta first, as readers expect them (the stored copy comes back in jsonb key order).
  const { resourceType: _r, id: _i, meta: _m, statusReason: sentReason, ...rest } = view;
  const task: Task = {
    resourceType: 'Task',
    id: row.id,
    meta: {
      versionId: String(row.versionId),
      lastUpdated: row.lastUpdated.toISOString(),
      // Skyddad identitet travels as the Task's label: R4 forbids security labels on contained resources (dom-5).
      ...(row.protectedIdentity && personShown ? { security: [RESTRICTED] } : {}),
    },
    ...rest,
    groupIdentifier: groupIdentifier(row.id),
    status: taskStatus(row.status),
    ...(row.statusReason
      ? {
          statusReason: {
            coding: [{ system: CASE_STATUS_REASON_SYSTEM, code: row.statusReason }],
            // The initiator's own words when it withdrew; only it and covered units see them.
            ...(sentReason?.text && personShown ? { text: sentReason.text } : {}),
          },
        }
      : {}),
    intent: 'order',
    businessStatus: { coding: [{ system: CASE_STATUS_SYSTEM, code: row.status }] },
    authoredOn: sent.authoredOn ?? row.createdAt.toISOString(),
    lastModified: row.lastUpdated.toISOString(),
    input: invitations.map((inv) => ({
      type: { coding: [{ system: TASK_INPUT_SYSTEM, code: inv.kind }] },
      valueReference: { reference: `Task/${inv.id}`, identifier: { system: HSA_SYSTEM, value: inv.org } },
    })),
  };
  return task;
}

export const CASE_STATUS_REASON_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-case-status-reason';

/** Task.status of the initiative follows the case: open, under way, done or cancelled. */
function taskStatus(caseStatus: string): Task['status'] {
  if (caseStatus === 'awaiting-consent') return 'requested';
  if (caseStatus === 'closed') return 'completed';
  if (caseStatus === 'cancelled') return 'cancelled';
  return 'in-progress';
}

export const RESTRICTED = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  code: 'R',
  display: 'restricted',
};

/** A contained resource may carry no meta.security (dom-5); the label the sender put there moves to the Task. */
function withoutContainedLabels(sent: Partial<Task>): Partial<Task> {
  if (!sent.contained?.some((r) => r.meta?.security)) return sent;
  return {
    ...sent,
    contained: sent.contained.map((r) => {
      if (!r.meta?.security) return r;
      const { security: _s, ...meta } = r.meta;
      const { meta: _m, ...rest } = r;
      return (Object.keys(meta).length > 0 ? { ...rest, meta } : rest) as typeof r;
    }),
  };
}

/** Skyddad identitet: address and contact details never leave the owning organisation (SPEC §3). */
function withoutContactData(sent: Partial<Task>): Partial<Task> {
  return {
    ...sent,
    contained: sent.contained?.map((r) => {
      if (r.resourceType !== 'Patient') return r;
      const { address: _a, telecom: _t, contact: _c, ...rest } = r;
      return rest;
    }),
  };
}

function withoutPersonData(sent: Partial<Task>): Partial<Task> {
  const { contained: _c, for: _f, description: _d, ...rest } = sent;
  return rest;
}

export function invitationTask(inv: InvitationRow, row: CaseRow): Task {
  return {
    resourceType: 'Task',
    id: inv.id,
    meta: { versionId: String(inv.versionId), lastUpdated: inv.lastUpdated.toISOString() },
    groupIdentifier: groupIdentifier(row.id),
    partOf: [{ reference: `Task/${row.id}` }],
    status: inv.status as Task['status'],
    intent: 'order',
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'sip-invitation' }] },
    authoredOn: inv.createdAt.toISOString(),
    lastModified: inv.lastUpdated.toISOString(),
    requester: { identifier: { system: HSA_SYSTEM, value: row.requesterOrg } },
    owner: { identifier: { system: HSA_SYSTEM, value: inv.org } },
    input: [{ type: { coding: [{ system: TASK_INPUT_SYSTEM, code: inv.kind }] }, valueString: inv.kind }],
  };
}
