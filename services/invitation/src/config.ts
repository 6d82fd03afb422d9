// The invitation service's own settings (deadlines per SPEC §4 defaults), validated with zod at boot.
import { DEV_PATIENT_KEY_SECRET } from '@samsyn/platform';
import { z } from 'zod';

export const invitationConfigSchema = z.object({
  PATIENT_KEY_SECRET: z.string().min(16).default(DEV_PATIENT_KEY_SECRET),
  /** Lag 2017:612: summon to a SIP meeting within this many days of the ready-for-discharge notice. */
  DISCHARGE_SUMMONS_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  /** Working days before an unanswered invitation is reminded, and escalated to the initiator. */
  INVITATION_REMINDER_WORKING_DAYS: z.coerce.number().int().min(1).max(30).default(2),
  INVITATION_ESCALATION_WORKING_DAYS: z.coerce.number().int().min(1).max(60).default(4),
  MEETING_REMINDER_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 14)
    .default(24),
  /** How often stored timers are checked. */
  TIMER_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
});

export type InvitationConfig = z.infer<typeof invitationConfigSchema>;
