/**
 * The handlers' SERVICE_TOKEN and its expiry: when it lapses every write-back
 * fails, so the handlers say so ahead of time. The claims are read without
 * verifying the signature (jose's decodeJwt): the handlers do not hold the
 * JWT secret, and the API verifies the token on every call anyway.
 *
 * The warning window opens 7 days before `exp`, or a tenth of the token's
 * lifetime (exp - iat) before it if that is longer: a 365-day token warns
 * from 36.5 days, a 90-day one from 9 days, and one shorter than 7 days
 * (the 12h default of `token service`) from the start. While in the window
 * the log warns at start and once a day; at expiry it logs one error.
 */
import { decodeJwt } from 'jose';
import type { Logger } from './log.js';

const DAY_MS = 86_400_000;
const WARN_AT_LEAST_MS = 7 * DAY_MS;
/** The longest delay setTimeout takes; a later transition is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const HOW_TO_RENEW = 'mint a new one: npm run token -- service --ttl 90d';

export type ServiceTokenState = 'valid' | 'expiring' | 'expired' | 'no expiry';

export interface ServiceTokenStatus {
  state: ServiceTokenState;
  /** Epoch ms of `exp`; undefined without one. */
  expiresAt?: number;
  /** Epoch ms from which the expiry is warned about. */
  warnFrom?: number;
}

/** Where a token with these claims stands at `now` (epoch ms). */
export function serviceTokenStatus(claims: { exp?: number; iat?: number }, now: number): ServiceTokenStatus {
  if (typeof claims.exp !== 'number') return { state: 'no expiry' };
  const expiresAt = claims.exp * 1000;
  const lifetime = typeof claims.iat === 'number' ? expiresAt - claims.iat * 1000 : 0;
  const warnFrom = expiresAt - Math.max(WARN_AT_LEAST_MS, lifetime / 10);
  const state = now >= expiresAt ? 'expired' : now >= warnFrom ? 'expiring' : 'valid';
  return { state, expiresAt, warnFrom };
}

export interface ServiceTokenWatch {
  /** Epoch ms of the token's `exp`; undefined when it has none or is not a JWT. */
  readonly expiresAt: number | undefined;
  stop(): void;
}

/** Logs the token's standing now, then again at each change (and daily while it is about to expire), until stopped. */
export function watchServiceToken(token: string, log: Logger, now: () => number = Date.now): ServiceTokenWatch {
  let claims: { exp?: number; iat?: number };
  try {
    claims = decodeJwt(token);
  } catch {
    log.error(`SERVICE_TOKEN is not a JWT: write-backs to the API fail; ${HOW_TO_RENEW}`);
    return { expiresAt: undefined, stop: () => {} };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const status = serviceTokenStatus(claims, now());
    const at = status.expiresAt === undefined ? '' : new Date(status.expiresAt).toISOString();
    if (status.state === 'no expiry') log.warn(`SERVICE_TOKEN has no exp claim: the API refuses a token without one; ${HOW_TO_RENEW}`);
    if (status.state === 'expired') log.error(`SERVICE_TOKEN has expired (at ${at}): write-backs to the API fail until it is replaced; ${HOW_TO_RENEW}`);
    if (status.state === 'expiring') log.warn(`SERVICE_TOKEN expires in ${roughly(status.expiresAt! - now())} (at ${at}); ${HOW_TO_RENEW}`);
    const next = nextCheck(status, now());
    if (next === undefined) return;
    // One ms past the change, so a timer never wakes just before it.
    timer = setTimeout(check, Math.min(MAX_TIMER_MS, Math.max(0, next - now()) + 1));
    // A watch never keeps a process alive on its own.
    (timer as { unref?: () => void }).unref?.();
  };
  check();
  return { expiresAt: claims.exp === undefined ? undefined : claims.exp * 1000, stop: () => clearTimeout(timer) };
}

function nextCheck(status: ServiceTokenStatus, now: number): number | undefined {
  if (status.state === 'valid') return status.warnFrom!;
  if (status.state === 'expiring') return Math.min(status.expiresAt!, now + DAY_MS);
  return undefined;
}

/** `45s`, `20m`, `5h`, `12d`: rounded down, in the largest unit that is at least 2. */
function roughly(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7_200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3_600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
