// Turns a PATCH or PUT of a Task into the one change it asks for, refusing anything a record system may not change.
import { BusinessRuleViolation, HSA_SYSTEM, InvalidRequest, isHsaSystem, type Task } from '@samsyn/fhir';
import type { InvitationAnswer } from './answer-invitation.ts';

export const TASK_OUTPUT_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-task-output';

/** Fields Samsyn keeps for itself; a client's copy of them is ignored, not an error (it may be stale). */
const SERVER_OWNED = new Set(['meta', 'lastModified', 'text']);

function changedFields(before: Task, after: Task): string[] {
  const b = before as unknown as Record<string, unknown>;
  const a = after as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
  return [...keys].filter((k) => !SERVER_OWNED.has(k) && JSON.stringify(b[k]) !== JSON.stringify(a[k]));
}

function refuse(fields: string[], allowed: string): never {
  throw new BusinessRuleViolation(
    'field-not-changeable',
    `Only ${allowed} may change here; this request also changes ${fields.map((f) => `Task.${f}`).join(', ')}`,
  );
}

/** An invitation's owner answers: accept, reject (with reason, substitute) or forward (new owner). */
export function interpretInvitationChange(before: Task, after: Task): InvitationAnswer {
  const changed = changedFields(before, after);
  const extra = changed.filter(
    (f) => !['status', 'statusReason', 'owner', 'output', 'businessStatus'].includes(f),
  );
  if (after.id !== undefined && after.id !== before.id)
    throw new InvalidRequest('id-mismatch', 'Task.id must match the id in the URL');
  if (extra.length > 0) refuse(extra, 'status, statusReason, owner and output');
  const ownerBefore = before.owner?.identifier?.value;
  const ownerAfter = after.owner?.identifier?.value;
  if (ownerAfter !== ownerBefore) {
    if (after.status !== before.status) {
      throw new InvalidRequest(
        'forward-and-answer',
        'Forward (a new owner) and answer (a new status) are separate requests',
      );
    }
    if (!ownerAfter || !isHsaSystem(after.owner?.identifier?.system)) {
      throw new InvalidRequest(
        'invalid-owner',
        `Task.owner.identifier must be the HSA-id (system ${HSA_SYSTEM}) of the unit to forward to`,
      );
    }
    return { kind: 'forward', toOrg: ownerAfter };
  }
  if (after.status === before.status) {
    throw new InvalidRequest(
      'no-change',
      "Nothing to do: change status to 'accepted' or 'rejected', or owner to forward",
    );
  }
  if (after.status === 'accepted') return { kind: 'accept' };
  if (after.status === 'rejected') {
    const reason = after.statusReason?.text ?? after.statusReason?.coding?.[0]?.display ?? '';
    const substitute = (after.output ?? []).find((o) =>
      o.type?.coding?.some((c) => c.system === TASK_OUTPUT_SYSTEM && c.code === 'substitute'),
    );
    const substituteOrg = substitute?.valueReference?.identifier?.value;
    if (substitute && !substituteOrg) {
      throw new InvalidRequest(
        'invalid-substitute',
        'Task.output[substitute].valueReference.identifier must name the HSA-id of the unit that comes instead',
      );
    }
    return { kind: 'reject', reason, ...(substituteOrg ? { substituteOrg } : {}) };
  }
  throw new InvalidRequest(
    'invalid-status',
    `An invitation can be answered with status 'accepted' or 'rejected', not '${after.status}'`,
  );
}

/** The initiator may only withdraw its initiative (status cancelled, with an optional reason). */
export function interpretInitiativeChange(
  before: Task,
  after: Task,
): { reason?: string; code?: 'withdrawn' | 'person-declined' } {
  const changed = changedFields(before, after);
  const extra = changed.filter((f) => !['status', 'statusReason', 'businessStatus'].includes(f));
  if (after.id !== undefined && after.id !== before.id)
    throw new InvalidRequest('id-mismatch', 'Task.id must match the id in the URL');
  if (extra.length > 0) refuse(extra, "status (to 'cancelled', to withdraw) and statusReason");
  if (after.status !== 'cancelled') {
    throw new BusinessRuleViolation(
      'initiative-not-changeable',
      "The initiative changes state through the process; the initiator may only withdraw it (status 'cancelled')",
    );
  }
  // A statusReason as read (a case that ended already) is no new reason; the transition then says why not.
  const sent =
    JSON.stringify(after.statusReason) === JSON.stringify(before.statusReason)
      ? undefined
      : after.statusReason;
  const reason = sent?.text;
  // The person may end the SIP at any time (SPEC §3); the initiator records it with the code person-declined.
  const codes = (sent?.coding ?? []).filter((c) => c.system === CASE_STATUS_REASON_SYSTEM);
  const unknown = codes.find((c) => !WITHDRAW_CODES.includes(c.code ?? ''));
  if (unknown) {
    throw new InvalidRequest(
      'invalid-status-reason',
      `Task.statusReason.coding: '${unknown.code}' is not a reason to withdraw; use ${WITHDRAW_CODES.join(' or ')} (${CASE_STATUS_REASON_SYSTEM}), or only a text`,
    );
  }
  const code = codes[0]?.code as 'withdrawn' | 'person-declined' | undefined;
  return { ...(reason ? { reason } : {}), ...(code ? { code } : {}) };
}

const CASE_STATUS_REASON_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-case-status-reason';
const WITHDRAW_CODES = ['withdrawn', 'person-declined'];
