// The notification service's own settings, validated with zod once at boot.
import { z } from 'zod';

const msList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds, e.g. 60000,300000')
  .transform((s) => s.split(',').map(Number));

export const notificationConfigSchema = z.object({
  /** SMTP server for e-mail (smtp://user:pass@host:port or smtps://…); unset: e-mails wait until it is set. */
  NOTIFICATION_SMTP_URL: z.url().optional(),
  NOTIFICATION_MAIL_FROM: z.string().min(3).default('Samsyn <noreply@samsyn.local>'),
  /** Delay before each retry of a failed e-mail; after the last one it is marked failed. */
  NOTIFICATION_EMAIL_BACKOFF_MS: msList.default([60_000, 300_000, 900_000, 3_600_000]),
  /** Public address of the service (links in e-mails). */
  NOTIFICATION_PUBLIC_URL: z.url().default('http://localhost:8080'),
  /** Where the staff inbox pages reach the FHIR API from the server (default: the origin the browser used). */
  NOTIFICATION_FHIR_BASE: z.url().optional(),
  /** How often the e-mail and subscription workers look for due work when nothing woke them. */
  NOTIFICATION_WORKER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Delay before each retry of a failed rest-hook delivery (the last value repeats while in error). */
  NOTIFICATION_HOOK_BACKOFF_MS: msList.default([1000, 5000, 30_000, 120_000, 600_000]),
  /** Consecutive failed deliveries after which a Subscription's status becomes error. */
  NOTIFICATION_HOOK_ERROR_AFTER: z.coerce.number().int().min(1).max(100).default(3),
  /** Messages of one stream applied at once (per-case order is kept by the inbox and the rules). */
  NOTIFICATION_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
});

export type NotificationConfig = z.infer<typeof notificationConfigSchema>;
