// Unit tests for bearer-token verification and SMART scope checks.
import { type FhirError, Forbidden, Unauthenticated } from '@samsyn/fhir';
import { importJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  type AuthContext,
  allows,
  createAuthenticator,
  DEFAULT_DEV_SCOPES,
  type DevKey,
  generateDevKey,
  mintToken,
  requireScope,
} from './auth.ts';

const SETTINGS = { issuer: 'samsyn-test', audience: 'samsyn' };
const ORG = 'SE2321000032-1001';

describe('allows with SMART v2 scopes', () => {
  it('lets user/Task.cruds do everything on Task and nothing on other types', () => {
    for (const i of ['c', 'r', 'u', 'd', 's'] as const)
      expect(allows(['user/Task.cruds'], 'Task', i)).toBe(true);
    expect(allows(['user/Task.cruds'], 'CarePlan', 'r')).toBe(false);
  });

  it('lets system/Task.cru create, read and update but not delete or search', () => {
    const scopes = ['system/Task.cru'];
    expect(allows(scopes, 'Task', 'c')).toBe(true);
    expect(allows(scopes, 'Task', 'r')).toBe(true);
    expect(allows(scopes, 'Task', 'u')).toBe(true);
    expect(allows(scopes, 'Task', 'd')).toBe(false);
    expect(allows(scopes, 'Task', 's')).toBe(false);
  });

  it('lets user/*.rs read and search every type but not write', () => {
    expect(allows(['user/*.rs'], 'Consent', 'r')).toBe(true);
    expect(allows(['user/*.rs'], 'AuditEvent', 's')).toBe(true);
    expect(allows(['user/*.rs'], 'Consent', 'c')).toBe(false);
    expect(allows(['user/*.rs'], 'Consent', 'u')).toBe(false);
  });

  it('ignores a query restriction after the permissions', () => {
    expect(allows(['user/Task.rs?status=requested'], 'Task', 's')).toBe(true);
  });

  it('allows when any one of several scopes allows', () => {
    expect(allows(['user/CarePlan.rs', 'user/Task.c'], 'Task', 'c')).toBe(true);
    expect(allows(['user/CarePlan.rs', 'user/Task.c'], 'Task', 'r')).toBe(false);
  });
});

describe('allows with SMART v1 scopes', () => {
  it('reads user/Task.read as read and search only', () => {
    expect(allows(['user/Task.read'], 'Task', 'r')).toBe(true);
    expect(allows(['user/Task.read'], 'Task', 's')).toBe(true);
    for (const i of ['c', 'u', 'd'] as const) expect(allows(['user/Task.read'], 'Task', i)).toBe(false);
  });

  it('reads user/Task.write as create, update and delete only', () => {
    for (const i of ['c', 'u', 'd'] as const) expect(allows(['user/Task.write'], 'Task', i)).toBe(true);
    expect(allows(['user/Task.write'], 'Task', 'r')).toBe(false);
    expect(allows(['user/Task.write'], 'Task', 's')).toBe(false);
  });

  it('reads user/*.* as everything on every type', () => {
    for (const i of ['c', 'r', 'u', 'd', 's'] as const) expect(allows(['user/*.*'], 'Consent', i)).toBe(true);
  });
});

describe('allows with scopes that are not SMART scopes', () => {
  it('allows nothing for garbage, out-of-order permissions or other contexts', () => {
    const garbage = [
      '',
      'Task.read',
      'openid',
      'user/Task',
      'user/Task.xyz',
      'user/Task.rc',
      'patient/Task.read',
    ];
    for (const scope of garbage) expect(allows([scope], 'Task', 'r')).toBe(false);
    expect(allows(['user/Task.cc'], 'Task', 'c')).toBe(false);
    expect(allows([], 'Task', 'r')).toBe(false);
  });

  it('does not let a scope for one type reach a type whose name starts the same', () => {
    expect(allows(['user/Care.rs'], 'CarePlan', 'r')).toBe(false);
  });
});

describe('requireScope', () => {
  const auth: AuthContext = { subject: ORG, org: ORG, scopes: ['user/Task.rs'], kind: 'user' };

  it('passes when the scopes allow the interaction', () => {
    expect(() => requireScope(auth, 'Task', 's')).not.toThrow();
  });

  it('answers 403 naming the interaction and a scope that would allow it', () => {
    try {
      requireScope(auth, 'Task', 'd');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(Forbidden);
      expect((err as FhirError).status).toBe(403);
      expect((err as Error).message).toBe(
        "The token's scopes do not allow delete on Task; it needs e.g. user/Task.d",
      );
    }
  });
});

/** Verifies `token`, expecting a 401, and returns its message. */
async function rejection(verify: Promise<AuthContext>): Promise<string> {
  try {
    await verify;
  } catch (err) {
    expect(err).toBeInstanceOf(Unauthenticated);
    expect((err as FhirError).status).toBe(401);
    return (err as Error).message;
  }
  throw new Error('expected the token to be refused');
}

async function signRaw(key: DevKey, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid ?? 'dev' })
    .setIssuer(SETTINGS.issuer)
    .setAudience(SETTINGS.audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(await importJWK(key.privateJwk, 'ES256'));
}

describe('createAuthenticator with the development key', () => {
  it('refuses to start without any verification key', () => {
    expect(() => createAuthenticator(SETTINGS)).toThrow(/AUTH_JWKS_URL, AUTH_PUBLIC_KEY_PEM or AUTH_DEV_KEY/);
  });

  it('turns a minted token into the caller’s organisation, subject and scopes', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(
      key,
      {
        org: ORG,
        user: 'SE2321000032-u1',
        principal: 'SE2321000032-0001',
        name: 'Anna Andersson',
        scopes: ['user/Task.cruds', 'user/CarePlan.rs'],
      },
      SETTINGS,
    );
    expect(await authenticator.verify(token)).toEqual({
      subject: 'SE2321000032-u1',
      org: ORG,
      principal: 'SE2321000032-0001',
      name: 'Anna Andersson',
      scopes: ['user/Task.cruds', 'user/CarePlan.rs'],
      kind: 'user',
    });
  });

  it('gives a token without user or scopes the organisation as subject and the default scopes', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const auth = await authenticator.verify(await mintToken(key, { org: ORG }, SETTINGS));
    expect(auth.subject).toBe(ORG);
    expect(auth.scopes).toEqual([...DEFAULT_DEV_SCOPES]);
    expect(auth).not.toHaveProperty('principal');
  });

  it('marks a token with only system scopes as a system caller', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const auth = await authenticator.verify(
      await mintToken(key, { org: ORG, scopes: ['system/Task.cru'] }, SETTINGS),
    );
    expect(auth.kind).toBe('system');
  });

  it('refuses a token from another issuer', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(key, { org: ORG }, { ...SETTINGS, issuer: 'someone-else' });
    expect(await rejection(authenticator.verify(token))).toMatch(/^The bearer token is not valid: .*"iss"/);
  });

  it('refuses a token meant for another audience', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(key, { org: ORG }, { ...SETTINGS, audience: 'another-api' });
    expect(await rejection(authenticator.verify(token))).toMatch(/^The bearer token is not valid: .*"aud"/);
  });

  it('refuses an expired token and says it has expired', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(key, { org: ORG, expiresIn: '-1s' }, SETTINGS);
    expect(await rejection(authenticator.verify(token))).toBe(
      'The bearer token is not valid: it has expired',
    );
  });

  it('refuses a token that expires after it was first accepted', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(key, { org: ORG, expiresIn: '2s' }, SETTINGS);
    expect((await authenticator.verify(token)).org).toBe(ORG);
    expect((await authenticator.verify(token)).org).toBe(ORG);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await rejection(authenticator.verify(token))).toBe(
      'The bearer token is not valid: it has expired',
    );
  });

  it('refuses a token signed with another key', async () => {
    const trusted = await generateDevKey();
    const other = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: trusted.publicJwk });
    const token = await mintToken(other, { org: ORG }, SETTINGS);
    expect(await rejection(authenticator.verify(token))).toBe(
      'The bearer token is not valid: the signature does not verify',
    );
  });

  it('refuses a token whose signature was tampered with after signing', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await mintToken(key, { org: ORG, scopes: ['user/Task.rs'] }, SETTINGS);
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({ org: ORG, scope: 'user/*.*', iss: SETTINGS.issuer, aud: SETTINGS.audience }),
    ).toString('base64url');
    expect(await rejection(authenticator.verify(`${header}.${payload}.${signature}`))).toBe(
      'The bearer token is not valid: the signature does not verify',
    );
  });

  it('refuses something that is not a JWT', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    expect(await rejection(authenticator.verify('not-a-token'))).toBe(
      'The bearer token is not valid: it is not a well-formed JWT',
    );
  });

  it('refuses a valid token without an org claim', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    const token = await signRaw(key, { sub: 'SE2321000032-u1', scope: 'user/Task.rs' });
    expect(await rejection(authenticator.verify(token))).toBe(
      'The bearer token must carry an `org` claim with the HSA-id of the organisation unit',
    );
  });

  it('refuses a valid token whose org is not an HSA-id', async () => {
    const key = await generateDevKey();
    const authenticator = createAuthenticator({ ...SETTINGS, devPublicJwk: key.publicJwk });
    for (const org of ['Socialtjänsten Solna', 'se2321000032-1001']) {
      const token = await mintToken(key, { org }, SETTINGS);
      expect(await rejection(authenticator.verify(token))).toContain('`org` claim with the HSA-id');
    }
    expect(await rejection(authenticator.verify(await signRaw(key, { org: 12345 })))).toContain(
      '`org` claim',
    );
  });
});
