// Configuration read once at boot from the environment, validated with zod; a bad value stops start-up with a readable message.
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Settings every service shares. Services extend this schema with their own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL URL; without it the one-machine runner uses embedded PGlite. */
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  /** Data directory for PGlite and a self-started nats-server. */
  DATA_DIR: z.string().default('./.data'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Stream replicas: 3 on a production cluster (R3). */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Subject/stream namespace; empty in production. */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]*$/)
    .default(''),
  /** Public base URL of the FHIR endpoint, used in links when no X-Forwarded-* headers say otherwise. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  AUTH_ISSUER: z.string().default('samsyn-dev'),
  AUTH_AUDIENCE: z.string().default('samsyn'),
  /** JWKS URL of the identity provider (RS256/ES256) in production. */
  AUTH_JWKS_URL: z.string().url().optional(),
  /** A static public key (PEM, SPKI) instead of a JWKS URL. */
  AUTH_PUBLIC_KEY_PEM: z.string().optional(),
  /** Accept tokens signed with the local development key (never in production). */
  AUTH_DEV_KEY: bool.default(false),
  /** Key of the HMAC that turns a person identifier into the pseudonym the access log carries between services. */
  PATIENT_KEY_SECRET: z.string().min(16).default('samsyn-development-patient-key'),
  /** Seconds to wait for in-flight work on SIGTERM before exiting. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(300).default(20),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export class ConfigError extends Error {}

/** Parses `env` with `schema`; throws a ConfigError listing every bad variable. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const config = result.data as z.infer<S> & Partial<BaseConfig>;
  if (config.NODE_ENV === 'production' && config.AUTH_DEV_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  AUTH_DEV_KEY: must not be enabled when NODE_ENV=production',
    );
  }
  if (config.NODE_ENV === 'production' && !config.AUTH_JWKS_URL && !config.AUTH_PUBLIC_KEY_PEM) {
    throw new ConfigError(
      'Invalid configuration:\n  AUTH_JWKS_URL or AUTH_PUBLIC_KEY_PEM is required when NODE_ENV=production',
    );
  }
  if (config.NODE_ENV === 'production' && config.PATIENT_KEY_SECRET === 'samsyn-development-patient-key') {
    throw new ConfigError(
      'Invalid configuration:\n  PATIENT_KEY_SECRET: set a secret of your own when NODE_ENV=production',
    );
  }
  return config;
}
