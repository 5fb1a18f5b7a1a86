/**
 * Standard Webhooks signatures for deliveries: `v1,` + base64 HMAC-SHA256 of
 * `<msg id>.<unix seconds>.<body>`, with node:crypto. The standardwebhooks
 * package computes the same HMAC in pure JavaScript (fast-sha256), several
 * times the CPU per delivery; it still parses and validates the secrets here,
 * and receivers (and the tests) verify with it.
 *
 * WEBHOOK_SECRET may hold several secrets (rotation): the header then carries
 * one signature per secret, space-separated, as Standard Webhooks allows, and
 * a receiver that knows any one of them accepts the delivery.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { webhookSecrets } from '../../../kit/contract.js';

export interface WebhookSigner {
  sign(msgId: string, timestamp: Date, payload: string): string;
}

const PREFIX = 'whsec_';

export function webhookSigner(secretSetting: string): WebhookSigner {
  const secrets = webhookSecrets(secretSetting);
  if (secrets.length === 0) throw new Error('webhook secret is empty');
  const keys = secrets.map((secret) => {
    // Throws on an empty or malformed secret, exactly as the reference does.
    new Webhook(secret);
    return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  });
  return {
    sign: (msgId, timestamp, payload) => {
      const content = `${msgId}.${Math.floor(timestamp.getTime() / 1000)}.${payload}`;
      return keys.map((key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`).join(' ');
    },
  };
}
