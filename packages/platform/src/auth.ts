// Bearer JWT authentication (jose): JWKS or a static key in production, a local development key otherwise,
// and SMART-style scopes (system/Task.cru, user/CarePlan.rs, v1 .read/.write) checked per interaction.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkHsaId, Forbidden, Unauthenticated } from '@samsyn/fhir';
import type { MiddlewareHandler } from 'hono';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  importSPKI,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';

export interface AuthContext {
  /** The user's HSA-id, or the client id for a system token. */
  subject: string;
  /** The organisation unit (HSA-id) the caller acts for. */
  org: string;
  /** The principal (huvudman) the unit belongs to, when the token names it. */
  principal?: string;
  /** Display name of the user, if given (for the audit log). */
  name?: string;
  scopes: readonly string[];
  kind: 'user' | 'system';
}

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface Authenticator {
  verify(token: string): Promise<AuthContext>;
}

export interface AuthSettings {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  publicKeyPem?: string;
  /** Public JWK of the development key, when development tokens are accepted. */
  devPublicJwk?: JWK;
}

const ALGORITHMS = ['RS256', 'ES256'];
/** Verified tokens remembered, so a record system's token is checked once, not on every call. */
const VERIFIED_MAX = 10_000;
/** How long a verified token is trusted without a new signature check (never past its exp). */
const VERIFIED_MS = 5 * 60_000;

export function createAuthenticator(settings: AuthSettings): Authenticator {
  const verifiers: JWTVerifyGetKey[] = [];
  if (settings.jwksUrl) verifiers.push(createRemoteJWKSet(new URL(settings.jwksUrl)));
  if (settings.devPublicJwk)
    verifiers.push(createLocalJWKSet({ keys: [{ ...settings.devPublicJwk, alg: 'ES256' }] }));
  const staticKey = settings.publicKeyPem
    ? importSPKI(
        settings.publicKeyPem,
        settings.publicKeyPem.includes('BEGIN PUBLIC KEY') ? 'RS256' : 'ES256',
      )
    : undefined;
  if (verifiers.length === 0 && !staticKey) {
    throw new Error(
      'No token verification key configured: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY_PEM or AUTH_DEV_KEY=true',
    );
  }
  // Token → its caller, until min(exp, five minutes): an ES256 verification costs more than a whole read.
  const verified = new Map<string, { context: AuthContext; until: number }>();
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit && Date.now() < hit.until) return hit.context;
      if (hit) verified.delete(token);
      let payload: JWTPayload | undefined;
      let lastError: unknown;
      const opts = { issuer: settings.issuer, audience: settings.audience, algorithms: ALGORITHMS };
      for (const getKey of verifiers) {
        try {
          payload = (await jwtVerify(token, getKey, opts)).payload;
          break;
        } catch (err) {
          lastError = err;
        }
      }
      if (!payload && staticKey) {
        try {
          payload = (await jwtVerify(token, await staticKey, opts)).payload;
        } catch (err) {
          lastError = err;
        }
      }
      if (!payload)
        throw new Unauthenticated(`The bearer token is not valid: ${describeJoseError(lastError)}`);
      const context = toContext(payload);
      const expires = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
      verified.set(token, { context, until: Math.min(expires, Date.now() + VERIFIED_MS) });
      return context;
    },
  };
}

function describeJoseError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown reason';
  const code = (err as { code?: string }).code;
  if (code === 'ERR_JWT_EXPIRED') return 'it has expired';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return err.message;
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWKS_NO_MATCHING_KEY')
    return 'the signature does not verify';
  if (code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return 'it is not a well-formed JWT';
  return err.message;
}

function toContext(payload: JWTPayload): AuthContext {
  const org = typeof payload.org === 'string' ? payload.org : undefined;
  if (!org || !checkHsaId(org).ok) {
    throw new Unauthenticated(
      'The bearer token must carry an `org` claim with the HSA-id of the organisation unit',
    );
  }
  const scopeClaim = payload.scope;
  const scopes = typeof scopeClaim === 'string' ? scopeClaim.split(/\s+/).filter(Boolean) : [];
  const subject = typeof payload.sub === 'string' ? payload.sub : org;
  // Frozen: one verified token's context serves many requests.
  return Object.freeze({
    subject,
    org,
    ...(typeof payload.principal === 'string' ? { principal: payload.principal } : {}),
    ...(typeof payload.name === 'string' ? { name: payload.name } : {}),
    scopes: Object.freeze(scopes) as string[],
    kind: scopes.some((s) => s.startsWith('user/')) ? 'user' : 'system',
  });
}

/** Whether `scopes` allow `interaction` on `resourceType` (SMART v2 `cruds`, v1 `read`/`write`/`*`). */
export function allows(scopes: readonly string[], resourceType: string, interaction: Interaction): boolean {
  return scopes.some((scope) => {
    const m = /^(user|system)\/([A-Za-z]+|\*)\.([a-z*]+)(?:\?.*)?$/.exec(scope);
    if (!m) return false;
    const [, , type, perms = ''] = m;
    if (type !== '*' && type !== resourceType) return false;
    if (perms === '*') return true;
    if (perms === 'read') return interaction === 'r' || interaction === 's';
    if (perms === 'write') return interaction === 'c' || interaction === 'u' || interaction === 'd';
    return /^c?r?u?d?s?$/.test(perms) && perms.includes(interaction);
  });
}

export function requireScope(auth: AuthContext, resourceType: string, interaction: Interaction): void {
  if (!allows(auth.scopes, resourceType, interaction)) {
    const verb = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' }[interaction];
    throw new Forbidden(
      `The token's scopes do not allow ${verb} on ${resourceType}; it needs e.g. user/${resourceType}.${interaction}`,
    );
  }
}

export type AuthVariables = { auth: AuthContext };

/** Hono middleware: every request must carry a valid bearer token; the context lands in c.var.auth. */
export function authenticate(authenticator: Authenticator): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m?.[1]) {
      c.header('WWW-Authenticate', 'Bearer realm="samsyn"');
      throw new Unauthenticated('This call needs an Authorization: Bearer <token> header');
    }
    try {
      c.set('auth', await authenticator.verify(m[1]));
    } catch (err) {
      c.header('WWW-Authenticate', 'Bearer realm="samsyn", error="invalid_token"');
      throw err;
    }
    await next();
  };
}

// ---- Development key and tokens ---------------------------------------------------------------------------

export interface DevKey {
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function generateDevKey(): Promise<DevKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' },
  };
}

/** The development signing key under DATA_DIR, created on first use (never used when NODE_ENV=production). */
export async function loadOrCreateDevKey(file: string): Promise<DevKey> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKey;
  const key = await generateDevKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(key, null, 2), { mode: 0o600 });
  return key;
}

export interface TokenClaims {
  org: string;
  user?: string;
  principal?: string;
  name?: string;
  scopes?: readonly string[];
  expiresIn?: string;
}

/** Every scope a staff member of a participating unit typically needs. */
export const DEFAULT_DEV_SCOPES = [
  'user/Task.cruds',
  'user/Appointment.cruds',
  'user/Flag.rs',
  'user/Consent.cruds',
  'user/AuditEvent.rs',
  'user/CarePlan.cruds',
  'user/Communication.crus',
  'user/Subscription.cruds',
  'user/MeasureReport.rs',
  'user/Measure.rs',
  'user/QuestionnaireResponse.cr',
  'user/CodeSystem.rs',
] as const;

export async function mintToken(
  key: DevKey,
  claims: TokenClaims,
  settings: { issuer: string; audience: string },
): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'ES256');
  return new SignJWT({
    org: claims.org,
    ...(claims.principal ? { principal: claims.principal } : {}),
    ...(claims.name ? { name: claims.name } : {}),
    scope: (claims.scopes ?? DEFAULT_DEV_SCOPES).join(' '),
  })
    .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid ?? 'dev' })
    .setSubject(claims.user ?? claims.org)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h')
    .sign(privateKey);
}
