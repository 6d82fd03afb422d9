// What every Consent use case shares: the event source, the caller's context and the access log entry.
import type { DbOrTx } from '@samsyn/db';
import { type AuditInteraction, type Auditor, type AuthContext, patientKey } from '@samsyn/platform';

export const SOURCE = '/samsyn/consent';

export interface AccessContext {
  auth: AuthContext;
  auditor: Auditor;
  /** PATIENT_KEY_SECRET: the same person gives the same pseudonym in every service. */
  patientKeySecret: string;
  traceparent?: string;
  now?: Date;
}

export interface Accessed {
  id?: string;
  caseId?: string;
  patientSystem?: string;
  patientValue?: string;
}

/** Records one Patientdatalagen access-log entry about `what`, in `tx` (the access's own transaction). */
export async function logAccess(
  tx: DbOrTx,
  ctx: AccessContext,
  interaction: AuditInteraction,
  what: Accessed,
  extra: { outcome?: '0' | '4'; query?: string } = {},
): Promise<void> {
  await ctx.auditor.record(tx, {
    auth: ctx.auth,
    interaction,
    ...(extra.outcome ? { outcome: extra.outcome } : {}),
    ...(what.patientSystem && what.patientValue
      ? { patientKey: patientKey(ctx.patientKeySecret, what.patientSystem, what.patientValue) }
      : {}),
    ...(what.caseId ? { caseId: what.caseId } : {}),
    resource: what.id ? `Consent/${what.id}` : 'Consent',
    ...(extra.query ? { query: extra.query } : {}),
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  });
}
