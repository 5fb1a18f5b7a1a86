/**
 * Authentication: every operation carries a JWT (HS256 with a shared secret,
 * or any JWKS-published key). The token's `sub` and `role` claims become the
 * viewer; the role must be the engine's (service, admin) or one the app adds.
 * - AUTH_JWT_SECRET may hold several secrets: the first signs (mintToken),
 *   every one verifies, so a secret rotates with no downtime;
 * - a token must carry `iat` and `exp`, and live (exp - iat) no longer than
 *   its role's maximum: AUTH_MAX_SERVICE_TOKEN_TTL for `service`,
 *   AUTH_MAX_TOKEN_TTL for everyone else;
 * - verified tokens are kept in an LRU cache, keyed by the token itself, each
 *   for a minute at most and never past its own expiry, so a client's
 *   repeated requests do not pay for verification each time.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { formatDuration, jwtSecrets, type Config } from '../config.js';
import { acceptedRoles, type Role, type Viewer } from '../graphql/context.js';
import { unauthenticated } from '../graphql/errors.js';

export interface Authenticator {
  /** Resolve a bearer token to a viewer; throws an UNAUTHENTICATED GraphQLError. */
  verify(token: string | undefined | null): Promise<Viewer>;
}

export type AuthConfig = Pick<
  Config,
  'AUTH_JWT_SECRET' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE' | 'AUTH_MAX_TOKEN_TTL' | 'AUTH_MAX_SERVICE_TOKEN_TTL'
>;

const CACHE_MAX = 10_000;
/** A cached token is verified again after this long, even if it lives longer (a key may have been rotated out). */
const CACHE_TTL_MS = 60_000;
/** How far in the future an `iat` may be: clocks of issuer and server disagree a little. */
const CLOCK_SKEW_S = 60;

/** `appRoles`: the roles the loaded app adds (`App.roles`; none for the engine alone). */
export function createAuthenticator(config: AuthConfig, appRoles: readonly string[]): Authenticator {
  const roles = acceptedRoles(appRoles);
  const verifySignature = signatureVerifier(config);
  const cache = new LRUCache<string, Viewer>({ max: CACHE_MAX, ttl: CACHE_TTL_MS });

  return {
    async verify(token) {
      if (!token) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>"');
      const hit = cache.get(token);
      if (hit) return hit;
      const payload = await verifySignature(token);
      const { sub, role } = identityOf(payload, roles);
      const expiresAt = checkLifetime(payload, role, config);
      const viewer: Viewer = { sub, role, expiresAt };
      // Never cached past the token's own expiry (lru-cache drops an entry when its ttl runs out; 0 would mean never).
      cache.set(token, viewer, { ttl: Math.max(1, Math.min(CACHE_TTL_MS, expiresAt - Date.now())) });
      return viewer;
    },
  };
}

/** Verifies the signature and the standard claims (exp, nbf, iss, aud) with each key in turn. */
function signatureVerifier(config: AuthConfig): (token: string) => Promise<JWTPayload> {
  const options = { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE };
  const keys: Array<Uint8Array | JWTVerifyGetKey> = config.AUTH_JWKS_URL
    ? [createRemoteJWKSet(new URL(config.AUTH_JWKS_URL))]
    : jwtSecrets(config.AUTH_JWT_SECRET ?? '').map((secret) => new TextEncoder().encode(secret));
  const algorithms = config.AUTH_JWKS_URL ? undefined : ['HS256'];
  return async (token) => {
    for (const [i, key] of keys.entries()) {
      try {
        return (await jwtVerify(token, key as Uint8Array, { ...options, algorithms })).payload;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // Only a signature made with another key is worth trying the next one for.
        if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' && i < keys.length - 1) continue;
        throw unauthenticated(`Authentication failed: token is ${code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid'}`);
      }
    }
    throw unauthenticated('Authentication failed: token is invalid');
  };
}

function identityOf(payload: JWTPayload, roles: readonly Role[]): { sub: string; role: Role } {
  const role = payload.role;
  if (typeof payload.sub !== 'string' || !payload.sub) throw unauthenticated('Authentication failed: token has no sub');
  if (typeof role !== 'string' || !roles.includes(role)) {
    throw unauthenticated(`Authentication failed: role must be one of ${roles.join(', ')}`);
  }
  return { sub: payload.sub, role };
}

/**
 * `exp` and `iat` are required, and the lifetime is exp - iat, as issued:
 * a leaked long-lived token is refused however little of it is left. An iat
 * in the future would hide part of the lifetime, so it is refused too.
 * Returns the expiry, epoch ms.
 */
function checkLifetime(payload: JWTPayload, role: Role, config: AuthConfig): number {
  const { exp, iat } = payload;
  if (typeof exp !== 'number') throw unauthenticated('Authentication failed: token has no exp (expiry)');
  if (typeof iat !== 'number') throw unauthenticated('Authentication failed: token has no iat (issued-at)');
  if (iat > Date.now() / 1000 + CLOCK_SKEW_S) throw unauthenticated('Authentication failed: token is issued in the future');
  const maxMs = role === 'service' ? config.AUTH_MAX_SERVICE_TOKEN_TTL : config.AUTH_MAX_TOKEN_TTL;
  if ((exp - iat) * 1000 > maxMs) {
    throw unauthenticated(`Authentication failed: token lifetime exceeds the ${formatDuration(maxMs)} maximum for role ${role}`);
  }
  return exp * 1000;
}

/** Extract the token from an Authorization header value. */
export function bearer(header: string | null | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/**
 * Mint an HS256 token (the `token` command, tests, and the demo). `secret` is
 * AUTH_JWT_SECRET as configured: with several secrets, the first signs.
 */
export async function mintToken(secret: string, viewer: Viewer, expiresIn = '12h'): Promise<string> {
  const [signing] = jwtSecrets(secret);
  if (!signing) throw new Error('mintToken: no secret');
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewer.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(signing));
}
