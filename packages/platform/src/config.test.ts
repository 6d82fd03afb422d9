// Unit tests for boot-time configuration: defaults, readable errors, and production safety checks.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig } from './config.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_JWKS_URL: 'https://idp.example.se/.well-known/jwks.json',
  PATIENT_KEY_SECRET: 'a-production-secret-of-length',
};

/** Runs `fn`, expecting a ConfigError, and returns its message. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError to be thrown');
}

describe('loadConfig', () => {
  it('applies the defaults when nothing is set', () => {
    expect(loadConfig(baseConfigSchema, {})).toEqual({
      NODE_ENV: 'development',
      PORT: 8080,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      DATABASE_POOL_MAX: 10,
      DATA_DIR: './.data',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_STREAM_REPLICAS: 1,
      NATS_NAMESPACE: '',
      AUTH_ISSUER: 'samsyn-dev',
      AUTH_AUDIENCE: 'samsyn',
      AUTH_DEV_KEY: false,
      PATIENT_KEY_SECRET: 'samsyn-development-patient-key',
      SHUTDOWN_GRACE_SECONDS: 20,
    });
  });

  it('turns numeric and boolean variables into numbers and booleans', () => {
    const config = loadConfig(baseConfigSchema, {
      PORT: '3000',
      AUTH_DEV_KEY: 'yes',
      NATS_STREAM_REPLICAS: '3',
    });
    expect(config.PORT).toBe(3000);
    expect(config.AUTH_DEV_KEY).toBe(true);
    expect(config.NATS_STREAM_REPLICAS).toBe(3);
    expect(loadConfig(baseConfigSchema, { AUTH_DEV_KEY: '0' }).AUTH_DEV_KEY).toBe(false);
  });

  it('refuses a bad PORT and names the variable', () => {
    const message = configError(() => loadConfig(baseConfigSchema, { PORT: 'eighty' }));
    expect(message).toMatch(/^Invalid configuration:\n {2}PORT: /);
    expect(configError(() => loadConfig(baseConfigSchema, { PORT: '70000' }))).toContain('PORT: ');
  });

  it('lists every bad variable at once', () => {
    const message = configError(() =>
      loadConfig(baseConfigSchema, {
        PORT: '-1',
        LOG_LEVEL: 'verbose',
        DATABASE_URL: 'not a url',
        AUTH_DEV_KEY: 'maybe',
      }),
    );
    const names = message
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(':')[0]);
    expect(names).toEqual(['PORT', 'LOG_LEVEL', 'DATABASE_URL', 'AUTH_DEV_KEY']);
  });

  it('treats an empty variable as unset, so its default applies', () => {
    const config = loadConfig(baseConfigSchema, {
      PORT: '',
      DATABASE_URL: '',
      NODE_ENV: '',
      AUTH_DEV_KEY: '',
    });
    expect(config.PORT).toBe(8080);
    expect(config.NODE_ENV).toBe('development');
    expect(config.AUTH_DEV_KEY).toBe(false);
    expect(config).not.toHaveProperty('DATABASE_URL');
  });

  it('starts in production with a JWKS URL and a secret of its own', () => {
    const config = loadConfig(baseConfigSchema, PRODUCTION);
    expect(config.NODE_ENV).toBe('production');
    expect(config.AUTH_JWKS_URL).toBe(PRODUCTION.AUTH_JWKS_URL);
  });

  it('refuses the development key in production', () => {
    expect(configError(() => loadConfig(baseConfigSchema, { ...PRODUCTION, AUTH_DEV_KEY: 'true' }))).toBe(
      'Invalid configuration:\n  AUTH_DEV_KEY: must not be enabled when NODE_ENV=production',
    );
  });

  it('refuses production without a JWKS URL or public key', () => {
    const { AUTH_JWKS_URL: _, ...withoutKey } = PRODUCTION;
    expect(configError(() => loadConfig(baseConfigSchema, withoutKey))).toBe(
      'Invalid configuration:\n  AUTH_JWKS_URL or AUTH_PUBLIC_KEY_PEM is required when NODE_ENV=production',
    );
    expect(configError(() => loadConfig(baseConfigSchema, { ...withoutKey, AUTH_JWKS_URL: '' }))).toContain(
      'AUTH_JWKS_URL or AUTH_PUBLIC_KEY_PEM is required',
    );
  });

  it('accepts a static public key instead of a JWKS URL in production', () => {
    const { AUTH_JWKS_URL: _, ...withoutJwks } = PRODUCTION;
    const pem = '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----';
    expect(
      loadConfig(baseConfigSchema, { ...withoutJwks, AUTH_PUBLIC_KEY_PEM: pem }).AUTH_PUBLIC_KEY_PEM,
    ).toBe(pem);
  });

  it('refuses the development patient-key secret in production', () => {
    const { PATIENT_KEY_SECRET: _, ...withoutSecret } = PRODUCTION;
    expect(configError(() => loadConfig(baseConfigSchema, withoutSecret))).toContain(
      'PATIENT_KEY_SECRET: set a secret of your own',
    );
  });

  it('validates a service’s own variables alongside the shared ones', () => {
    const schema = baseConfigSchema.extend({ REMINDER_DAYS: z.coerce.number().int().min(1) });
    expect(loadConfig(schema, { REMINDER_DAYS: '3' }).REMINDER_DAYS).toBe(3);
    expect(configError(() => loadConfig(schema, {}))).toMatch(/REMINDER_DAYS: /);
  });
});
