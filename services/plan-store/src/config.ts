// The plan-store service's own settings, validated with zod once at boot.
import { readFileSync } from 'node:fs';
import { DEV_PATIENT_KEY_SECRET } from '@samsyn/platform';
import { z } from 'zod';

const hsaId = z.string().regex(/^SE\d{10}-[A-Za-z0-9]{1,31}$/, 'must be an HSA-id such as SE2321000032-1001');

/** One participant organisation's own FHIR endpoint: its base URL and, if it wants one, a bearer token. */
const endpoint = z.union([
  z.url().transform((url) => ({ url })),
  z.object({ url: z.url(), bearerToken: z.string().min(1).optional() }),
]);
export type PlanEndpoint = { url: string; bearerToken?: string | undefined };

const endpointsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(z.record(hsaId, endpoint));

const backoffList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds, e.g. 1000,5000,30000')
  .transform((s) => s.split(',').map(Number));

export const planStoreConfigSchema = z
  .object({
    /** Key of the HMAC that pseudonymises person identifiers in the access log; shared by every service. */
    PATIENT_KEY_SECRET: z.string().min(16).default(DEV_PATIENT_KEY_SECRET),
    /** JSON object: HSA-id → FHIR base URL (or { url, bearerToken }) the active plan is pushed to. */
    PLAN_ENDPOINTS: endpointsJson.optional(),
    /** A file holding the same JSON as PLAN_ENDPOINTS (for a mounted Kubernetes secret). */
    PLAN_ENDPOINTS_FILE: z.string().min(1).optional(),
    /** Pushes of one version to one organisation before it is marked failed. */
    PLAN_PUSH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    /** Wait before each retry, by attempt (the last value repeats). */
    PLAN_PUSH_BACKOFF_MS: backoffList.default([2000, 10_000, 60_000, 300_000, 1_800_000]),
    /** How often the push worker looks for due deliveries when nothing wakes it. */
    PLAN_PUSH_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
    /** How often due plan deadlines (follow-up reminders, overdue follow-ups and activities) are fired. */
    PLAN_TIMER_POLL_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
    /** Time a peer may take to answer one push. */
    PLAN_PUSH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  })
  .transform((c, ctx) => {
    let endpoints: Record<string, PlanEndpoint> = c.PLAN_ENDPOINTS ?? {};
    if (c.PLAN_ENDPOINTS_FILE) {
      let text: string;
      try {
        text = readFileSync(c.PLAN_ENDPOINTS_FILE, 'utf8');
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['PLAN_ENDPOINTS_FILE'],
          message: `cannot be read: ${(err as Error).message}`,
        });
        return z.NEVER;
      }
      const parsed = endpointsJson.safeParse(text);
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          ctx.addIssue({
            code: 'custom',
            path: ['PLAN_ENDPOINTS_FILE', ...issue.path],
            message: issue.message,
          });
        return z.NEVER;
      }
      endpoints = { ...endpoints, ...parsed.data };
    }
    return { ...c, endpoints };
  });

export type PlanStoreConfig = z.infer<typeof planStoreConfigSchema>;
