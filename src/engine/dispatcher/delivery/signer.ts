/**
 * Standard Webhooks signatures for deliveries: `v1,` + base64 HMAC-SHA256 of
 * `<msg id>.<unix seconds>.<body>`, with node:crypto. The standardwebhooks
 * package computes the same HMAC in pure JavaScript (fast-sha256), several
 * times the CPU per delivery; it still parses and validates the secret here,
 * and receivers (and the tests) verify with it.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export interface WebhookSigner {
  sign(msgId: string, timestamp: Date, payload: string): string;
}

const PREFIX = 'whsec_';

export function webhookSigner(secret: string): WebhookSigner {
  // Throws on an empty or malformed secret, exactly as before.
  new Webhook(secret);
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  return {
    sign: (msgId, timestamp, payload) =>
      `v1,${createHmac('sha256', key).update(`${msgId}.${Math.floor(timestamp.getTime() / 1000)}.${payload}`).digest('base64')}`,
  };
}
