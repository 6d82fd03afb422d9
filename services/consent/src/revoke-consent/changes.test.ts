// A recorded Consent is immutable: only the elements Samsyn owns may differ in an update.
import { describe, expect, it } from 'vitest';
import { changedElements } from './changes.ts';

const stored = {
  resourceType: 'Consent',
  patient: { identifier: { system: 's', value: '1' } },
  provision: { type: 'permit', actor: [{ reference: { identifier: { value: 'a' } } }] },
};

describe('changedElements', () => {
  it('finds nothing when the resource is sent back as read, with id, meta and a new status', () => {
    const sent = { id: 'x', meta: { versionId: '1' }, status: 'inactive', ...stored };
    expect(changedElements(stored, sent)).toEqual([]);
  });

  it('ignores the order of keys', () => {
    const sent = {
      provision: { actor: stored.provision.actor, type: 'permit' },
      patient: stored.patient,
      resourceType: 'Consent',
    };
    expect(changedElements(stored, sent)).toEqual([]);
  });

  it('names every top-level element that differs, including added and removed ones', () => {
    const sent = {
      resourceType: 'Consent',
      provision: { type: 'permit', actor: [] },
      dateTime: '2026-01-01',
    };
    expect(changedElements(stored, sent)).toEqual(['dateTime', 'patient', 'provision']);
  });
});
