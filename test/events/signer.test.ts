/** Delivery signatures (src/events/delivery/signer.ts) are Standard Webhooks signatures: the reference package verifies them. */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { webhookSigner } from '../../src/engine/dispatcher/delivery/signer.js';

describe('webhook signer', () => {
  it('signs exactly as standardwebhooks does, so its verify() accepts the signature', () => {
    for (const body of ['{}', '{"name":"Zoë — 東京 🍜"}', JSON.stringify({ padding: 'x'.repeat(10_000) })]) {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const id = `msg_${randomBytes(8).toString('hex')}`;
      const at = new Date();
      const signature = webhookSigner(secret).sign(id, at, body);
      expect(signature).toBe(new Webhook(secret).sign(id, at, body));
      const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
      expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(body, headers)).toThrow(/signature/i);
    }
  });

  it('refuses an empty secret, as the reference does', () => {
    expect(() => webhookSigner('whsec_')).toThrow();
  });
});
