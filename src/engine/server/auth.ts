/**
 * Authentication: every operation carries a JWT (HS256 with a shared secret,
 * or any JWKS-published key). The token's `sub` and `role` claims become the
 * viewer; the role must be the engine's (service, admin) or one the app adds.
 * Verified tokens are cached briefly, keyed by the token itself, so a
 * client's repeated requests do not pay for verification each time.
 */
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { acceptedRoles, type Role, type Viewer } from '../graphql/context.js';
import { unauthenticated } from '../graphql/errors.js';

export interface Authenticator {
  /** Resolve a bearer token to a viewer; throws an UNAUTHENTICATED GraphQLError. */
  verify(token: string | undefined | null): Promise<Viewer>;
}

const CACHE_MAX = 10_000;

/** `appRoles`: the roles the loaded app adds (`App.roles`; none for the engine alone). */
export function createAuthenticator(
  config: Pick<Config, 'AUTH_JWT_SECRET' | 'AUTH_JWKS_URL' | 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE'>,
  appRoles: readonly string[],
): Authenticator {
  const roles = acceptedRoles(appRoles);
  const key: Uint8Array | JWTVerifyGetKey = config.AUTH_JWKS_URL
    ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL))
    : new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const cache = new Map<string, { viewer: Viewer; expiresAt: number }>();

  return {
    async verify(token) {
      if (!token) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>"');
      const hit = cache.get(token);
      if (hit && hit.expiresAt > Date.now()) return hit.viewer;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms: config.AUTH_JWKS_URL ? undefined : ['HS256'],
          issuer: config.AUTH_JWT_ISSUER,
          audience: config.AUTH_JWT_AUDIENCE,
        }));
      } catch (err) {
        const reason = (err as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid';
        throw unauthenticated(`Authentication failed: token is ${reason}`);
      }
      const viewer = toViewer(payload, roles);
      if (cache.size >= CACHE_MAX) cache.clear();
      // Never cache past the token's own expiry, and re-verify at least every minute.
      const exp = payload.exp ? payload.exp * 1000 : Infinity;
      cache.set(token, { viewer, expiresAt: Math.min(exp, Date.now() + 60_000) });
      return viewer;
    },
  };
}

function toViewer(payload: JWTPayload, roles: readonly Role[]): Viewer {
  const role = payload.role;
  if (typeof payload.sub !== 'string' || !payload.sub) throw unauthenticated('Authentication failed: token has no sub');
  if (typeof role !== 'string' || !roles.includes(role)) {
    throw unauthenticated(`Authentication failed: role must be one of ${roles.join(', ')}`);
  }
  return { sub: payload.sub, role, ...(payload.exp ? { expiresAt: payload.exp * 1000 } : {}) };
}

/** Extract the token from an Authorization header value. */
export function bearer(header: string | null | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/** Mint an HS256 token (the `token` command, tests, and the demo). */
export async function mintToken(secret: string, viewer: Viewer, expiresIn = '12h'): Promise<string> {
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(viewer.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
