/**
 * The receiving side of the Standard Webhooks signature (./contract.ts): a
 * delivery passes when its webhook-signature header holds a signature valid
 * under any of the configured secrets, so a secret rotates without a failed
 * delivery. Verified with the reference `standardwebhooks` package, one
 * instance per secret.
 */
import { Webhook } from 'standardwebhooks';
import { SIGNATURE_HEADERS, webhookSecrets } from './contract.js';

/** Throws, with the reason, unless `body` is signed under one of the secrets. */
export type SignatureCheck = (body: string, headers: Headers) => void;

/** Throws at once on an empty or malformed secret, not on the first delivery. */
export function signatureCheck(secretSetting: string): SignatureCheck {
  const secrets = webhookSecrets(secretSetting);
  if (secrets.length === 0) throw new Error('webhook secret is empty');
  const webhooks = secrets.map((secret) => new Webhook(secret));
  return (body, headers) => {
    const signed = signatureHeaders(headers);
    let firstError: unknown;
    for (const webhook of webhooks) {
      try {
        webhook.verify(body, signed, { jsonParse: false });
        return;
      } catch (err) {
        // A stale timestamp or missing header fails the same way under every secret: the first reason is the one.
        firstError ??= err;
      }
    }
    throw firstError;
  };
}

function signatureHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SIGNATURE_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
