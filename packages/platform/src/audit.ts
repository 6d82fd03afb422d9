// Patientdatalagen access log: every read, search and write of personal data becomes a sip.audit.recorded event,
// written through the service's outbox so it commits with (or right after) the access it describes.
import { createHmac, randomUUID } from 'node:crypto';
import { enqueue, type OutboxTable } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { DbOrTx } from '@samsyn/db';
import type { AuthContext } from './auth.ts';

export const DEV_PATIENT_KEY_SECRET = 'samsyn-development-patient-key';

/**
 * The keyed pseudonym of a person identifier: the same person gives the same key in every service that shares
 * the secret, and the key cannot be turned back into a personnummer without it.
 */
export function patientKey(secret: string, system: string, value: string): string {
  return createHmac('sha256', secret).update(`${system}|${value}`).digest('base64url').slice(0, 32);
}

export type AuditInteraction =
  | 'read'
  | 'vread'
  | 'search-type'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history';

const ACTION: Record<AuditInteraction, 'C' | 'R' | 'U' | 'D' | 'E'> = {
  read: 'R',
  vread: 'R',
  history: 'R',
  'search-type': 'E',
  create: 'C',
  update: 'U',
  patch: 'U',
  delete: 'D',
};

export interface AccessRecord {
  auth: AuthContext;
  interaction: AuditInteraction;
  /** 0 success, 4 minor failure (e.g. denied), 8 serious, 12 major. */
  outcome?: '0' | '4' | '8' | '12';
  patientKey?: string;
  caseId?: string;
  /** The resource read or written, e.g. Task/<id>. */
  resource?: string;
  query?: string;
  traceparent?: string;
}

export interface Auditor {
  /** Enqueues one access-log entry in `tx` (the access's own transaction, or one of its own for reads). */
  record(tx: DbOrTx, entry: AccessRecord): Promise<void>;
}

export function createAuditor(options: { outbox: OutboxTable; service: string }): Auditor {
  return {
    async record(tx, entry) {
      const auditId = randomUUID();
      await enqueue(
        tx,
        options.outbox,
        events.auditRecorded,
        {
          auditId,
          action: ACTION[entry.interaction],
          interaction: entry.interaction,
          outcome: entry.outcome ?? '0',
          userId: entry.auth.subject,
          ...(entry.auth.name ? { userName: entry.auth.name } : {}),
          orgUnit: entry.auth.org,
          ...(entry.patientKey ? { patientKey: entry.patientKey } : {}),
          ...(entry.caseId ? { caseId: entry.caseId } : {}),
          ...(entry.resource ? { resource: entry.resource } : {}),
          ...(entry.query ? { query: entry.query.slice(0, 2000) } : {}),
          recordedAt: new Date().toISOString(),
          service: options.service,
        },
        {
          aggregate: entry.caseId ?? auditId,
          source: `/samsyn/${options.service}`,
          id: auditId,
          ...(entry.traceparent ? { traceparent: entry.traceparent } : {}),
        },
      );
    },
  };
}
