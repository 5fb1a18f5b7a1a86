/**
 * What every handler transport needs from the config: the API to write back
 * to, the service token to do it with, and the webhook signing secret.
 * Outside production a missing SERVICE_TOKEN is minted from AUTH_JWT_SECRET,
 * so `npm start` and `handlers` work on a fresh clone; production must set one
 * (`npm run token -- service --ttl 90d`; the handlers warn ahead of its expiry).
 */
import { ConfigError, type Config } from '../config.js';
import { mintToken } from '../server/auth.js';

export interface HandlerSettings {
  apiUrl: string;
  serviceToken: string;
  webhookSecret: string;
}

export async function handlerSettings(config: Config): Promise<HandlerSettings> {
  if (!config.WEBHOOK_SECRET) {
    throw new ConfigError('config: WEBHOOK_SECRET is required; generate one with: echo whsec_$(openssl rand -base64 32)');
  }
  return { apiUrl: config.API_URL, serviceToken: await serviceToken(config), webhookSecret: config.WEBHOOK_SECRET };
}

async function serviceToken(config: Config): Promise<string> {
  if (config.SERVICE_TOKEN) return config.SERVICE_TOKEN;
  if (config.NODE_ENV === 'production' || !config.AUTH_JWT_SECRET) {
    throw new ConfigError('config: SERVICE_TOKEN is required; mint one with: npm run token -- service --ttl 90d');
  }
  // Long-lived on purpose: a local handlers process should not start failing overnight.
  return mintToken(config.AUTH_JWT_SECRET, { role: 'service', sub: 'handlers' }, '30d');
}
