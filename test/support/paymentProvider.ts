/**
 * A payment provider over HTTP for tests, the one the handlers reach with
 * PAYMENT_PROVIDER_URL: it answers `POST /charges` and `POST /refunds` like
 * the in-process fake (src/apps/food-delivery/handlers/fakePaymentProvider.ts)
 * and records every call (idempotency key, kind, order, time). A refund with
 * a key already seen returns that same refund, and so does a refund of a
 * payment already refunded under another key: like a real provider, it never
 * pays back twice, and `refundsMade` counts the refunds it really made.
 * `holdCharges()` keeps charges unanswered until released (a charge in flight).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { charge } from '../../src/apps/food-delivery/handlers/fakePaymentProvider.js';

export interface ProviderCall {
  kind: 'charge' | 'refund';
  key: string | null;
  orderId: string | null;
  paymentId: string | null;
  at: number;
  /** The refund this call answered with (refunds only). */
  refundRef?: string;
  /** True when the refund was made by this call, false when an earlier one's was returned. */
  made?: boolean;
}

export interface RecordingProvider {
  url: string;
  calls: ProviderCall[];
  refundsMade(): ProviderCall[];
  /** Charges wait (unanswered) until the returned release is called. */
  holdCharges(): () => void;
  /** Resolves once a charge has arrived (and is held, if holding). */
  chargeArrived(): Promise<void>;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on('error', reject);
  });
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export async function startRecordingProvider(): Promise<RecordingProvider> {
  const calls: ProviderCall[] = [];
  const byKey = new Map<string, string>();
  const byPayment = new Map<string, string>();
  let hold: Promise<void> | null = null;
  let arrived: Array<() => void> = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const key = str(req.headers['idempotency-key']);
    const base = { key, orderId: str(body.orderId), paymentId: str(body.paymentId), at: Date.now() };
    const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (req.method === 'POST' && req.url === '/charges') {
      calls.push({ kind: 'charge', ...base });
      for (const wake of arrived) wake();
      arrived = [];
      if (hold) await hold;
      send(200, charge({ paymentId: base.paymentId ?? '', amountCents: Number(body.amountCents) }));
      return;
    }
    if (req.method === 'POST' && req.url === '/refunds') {
      if (!key || !base.paymentId) return void send(400, { error: 'Idempotency-Key and paymentId are required' });
      const earlier = byKey.get(key) ?? byPayment.get(base.paymentId);
      const refundRef = earlier ?? `re_${randomUUID()}`;
      byKey.set(key, refundRef);
      byPayment.set(base.paymentId, refundRef);
      calls.push({ kind: 'refund', ...base, refundRef, made: !earlier });
      send(200, { refundRef });
      return;
    }
    send(404, { error: `no ${req.method} ${req.url}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    refundsMade: () => calls.filter((c) => c.kind === 'refund' && c.made),
    holdCharges() {
      let release!: () => void;
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => {
        hold = null;
        release();
      };
    },
    chargeArrived: () => new Promise<void>((resolve) => arrived.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
