/**
 * CORS for /graphql, through yoga's own `cors` option. The API
 * authenticates with a bearer header, never a cookie, so no answer is
 * credentialed. CORS_ORIGINS is the allowlist (`*`: any origin); by default
 * any origin outside production (a dev server on another port) and none in
 * production, where a foreign origin gets no CORS header at all and the
 * browser keeps the response from it: same-origin only.
 */
import type { YogaServerOptions } from 'graphql-yoga';
import type { Config } from '../config.js';

type CorsOption = NonNullable<YogaServerOptions<Record<string, unknown>, Record<string, unknown>>['cors']>;

export function corsPolicy(config: Pick<Config, 'NODE_ENV' | 'CORS_ORIGINS'>): CorsOption {
  const allowed = config.CORS_ORIGINS ?? (config.NODE_ENV === 'production' ? [] : ['*']);
  const anyOrigin = allowed.includes('*');
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(anyOrigin || allowed.includes(origin))) return false;
    // ['*'] makes yoga echo this request's origin with `Vary: Origin`; only allowed origins get here.
    return { origin: ['*'], credentials: false };
  };
}
