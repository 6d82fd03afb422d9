// The consent service's own settings, validated with zod once at boot.
import { DEV_PATIENT_KEY_SECRET } from '@samsyn/platform';
import { z } from 'zod';

/** SPEC §3 (Patientdatalagen): access logs are kept at least five years; 1827 days covers the leap days in any five. */
export const MIN_AUDIT_RETENTION_DAYS = 1827;

export const consentConfigSchema = z.object({
  /** Key of the HMAC that pseudonymises person identifiers in the access log; shared by every service. */
  PATIENT_KEY_SECRET: z.string().min(16).default(DEV_PATIENT_KEY_SECRET),
  /** How long access-log entries are kept. Nothing may delete them earlier, so a smaller value stops the boot. */
  AUDIT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(
      MIN_AUDIT_RETENTION_DAYS,
      `must be at least ${MIN_AUDIT_RETENTION_DAYS} days: Patientdatalagen requires access logs to be kept for five years`,
    )
    .default(MIN_AUDIT_RETENTION_DAYS),
  /** How often entries older than the retention are purged. */
  AUDIT_PURGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .max(24 * 3600 * 1000)
    .default(3600 * 1000),
});

export type ConsentConfig = z.infer<typeof consentConfigSchema>;
