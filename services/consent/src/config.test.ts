// The consent service's settings: access logs are kept at least five years, and a shorter retention stops the boot.
import { ConfigError, loadConfig } from '@samsyn/platform';
import { describe, expect, it } from 'vitest';
import { retentionCutoff } from './access-log/purge.ts';
import { consentConfigSchema } from './config.ts';

describe('consent configuration', () => {
  it('keeps access logs five years (1827 days) by default', () => {
    expect(loadConfig(consentConfigSchema, {}).AUDIT_RETENTION_DAYS).toBe(1827);
  });

  it('accepts a longer retention', () => {
    expect(loadConfig(consentConfigSchema, { AUDIT_RETENTION_DAYS: '3650' }).AUDIT_RETENTION_DAYS).toBe(3650);
  });

  it('refuses a retention under five years with a message that says why', () => {
    expect(() => loadConfig(consentConfigSchema, { AUDIT_RETENTION_DAYS: '365' })).toThrow(ConfigError);
    expect(() => loadConfig(consentConfigSchema, { AUDIT_RETENTION_DAYS: '1826' })).toThrow(
      /AUDIT_RETENTION_DAYS: must be at least 1827 days: Patientdatalagen requires access logs to be kept for five years/,
    );
  });

  it('refuses a purge cutoff under five years even when called directly', () => {
    expect(() => retentionCutoff(30, new Date())).toThrow(/at least 1827 days/);
    expect(retentionCutoff(1827, new Date('2031-11-23T00:00:00Z')).toISOString()).toBe(
      '2026-11-22T00:00:00.000Z',
    );
  });
});
