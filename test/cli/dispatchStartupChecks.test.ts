/**
 * A production `dispatch` whose webhooks (its triggers', and its workflow
 * handlers', whose step calls are deliveries too) read environment
 * variables that are unset (webhook_from_env, `{{VAR}}` URL templates,
 * value_from_env headers) would start and fail every delivery: it refuses
 * to start, in one line naming each variable and what needs it. Outside
 * production it starts, and says so in a warning.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/api.js';
import { freshDatabase, urlFor, type TestDatabase } from '../support/db.js';
import { TEST_WEBHOOK_SECRET } from '../support/events.js';
import { runCommand, stopProcess, type CommandProcess } from '../support/processes.js';

let db: TestDatabase | undefined;
let proc: CommandProcess | undefined;
let tmp: string | undefined;

afterEach(async () => {
  await stopProcess(proc, 'SIGKILL');
  proc = undefined;
  await db?.drop();
  db = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** The order workflow's step URLs, set: what is left unset is the broker triggers'. */
const STEP_URLS = {
  ASSIGN_DRIVER_URL: 'http://handlers:4100/assign-driver',
  DECLINE_UNANSWERED_URL: 'http://handlers:4100/decline-unanswered',
  REFUND_PAYMENT_URL: 'http://handlers:4100/refund-payment',
};

/** What the food-delivery workflows' handlers need, in the order the message names them. */
const WORKFLOW_NEEDS =
  "DECLINE_UNANSWERED_URL (webhook URL of workflow order-fulfilment's handler decline-unanswered), " +
  "ASSIGN_DRIVER_URL (webhook URL of workflow order-fulfilment's handler assign-driver), " +
  "REFUND_PAYMENT_URL (webhook URL of workflow order-fulfilment's handler refund-payment, webhook URL of workflow refund-late-payment's handler refund-payment)";

async function dispatch(env: Record<string, string>): Promise<CommandProcess> {
  db = await freshDatabase();
  proc = runCommand(['dispatch'], {
    DATABASE_URL: urlFor(db.name),
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    AUTH_JWT_SECRET: TEST_SECRET,
    WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ...env,
  });
  return proc;
}

/** How the process ended up: exited with a code, or started (and still running). */
async function outcome(p: CommandProcess): Promise<{ exited: number | null } | 'started'> {
  const started = p.waitForLog((l) => l.msg === 'dispatcher started', 30_000).then(() => 'started' as const, () => new Promise<never>(() => {}));
  return Promise.race([p.exited.then(({ code }) => ({ exited: code })), started]);
}

/** A Hasura metadata file with a templated webhook URL and a header from env. */
async function triggersFile(): Promise<string> {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'threefactor-envcheck-'));
  const file = path.join(tmp, 'triggers.json');
  const trigger = (name: string, table: string, extra: Record<string, unknown>) => ({
    type: 'pg_create_event_trigger',
    args: { name, source: 'default', table: { schema: 'public', name: table }, insert: { columns: '*' }, ...extra },
  });
  await writeFile(
    file,
    JSON.stringify({
      type: 'bulk',
      args: [
        trigger('driver_created', 'drivers', { webhook: '{{ACTION_BASE_URL}}/drivers', headers: [{ name: 'x-hook-token', value_from_env: 'HOOK_TOKEN' }] }),
        trigger('customer_created', 'customers', { webhook: 'https://hooks.example/{{CUSTOMER_PATH}}' }),
      ],
    }),
  );
  return file;
}

describe('a production dispatch with unset webhook variables', () => {
  it("refuses to start, in one line naming the app's URL variables: its triggers', then its workflow handlers'", async () => {
    const p = await dispatch({});
    expect(await outcome(p)).toEqual({ exited: 2 });
    expect(p.stderr()).toBe(
      'threefactor: config: dispatch needs environment variables that are unset: ' +
        `VALIDATE_ORDER_URL (webhook URL of trigger validate-order), CHARGE_PAYMENT_URL (webhook URL of trigger charge-payment), ${WORKFLOW_NEEDS}\n`,
    );
  });

  it("refuses to start on a workflow handler's variable alone", async () => {
    const p = await dispatch({
      VALIDATE_ORDER_URL: 'http://handlers:4100/validate-order',
      CHARGE_PAYMENT_URL: 'http://handlers:4100/charge-payment',
      ...STEP_URLS,
      ASSIGN_DRIVER_URL: '',
    });
    expect(await outcome(p)).toEqual({ exited: 2 });
    expect(p.stderr()).toBe(
      'threefactor: config: dispatch needs environment variables that are unset: ' +
        "ASSIGN_DRIVER_URL (webhook URL of workflow order-fulfilment's handler assign-driver)\n",
    );
  });

  it('names what is still unset when some are set', async () => {
    const p = await dispatch({ VALIDATE_ORDER_URL: 'http://handlers:4100/validate-order', CHARGE_PAYMENT_URL: '', ...STEP_URLS });
    expect(await outcome(p)).toEqual({ exited: 2 });
    expect(p.stderr()).toBe(
      'threefactor: config: dispatch needs environment variables that are unset: ' +
        'CHARGE_PAYMENT_URL (webhook URL of trigger charge-payment)\n',
    );
  });

  it('names the variables of Hasura triggers: {{…}} in a webhook URL, and a value_from_env header', async () => {
    const p = await dispatch({ APP: 'none', TRIGGERS_FILE: await triggersFile(), CUSTOMER_PATH: 'customers' });
    expect(await outcome(p)).toEqual({ exited: 2 });
    expect(p.stderr()).toBe(
      'threefactor: config: dispatch needs environment variables that are unset: ' +
        'ACTION_BASE_URL (webhook URL of trigger driver_created), HOOK_TOKEN (header x-hook-token of trigger driver_created)\n',
    );
  });

  it('starts once every variable is set', async () => {
    const p = await dispatch({
      VALIDATE_ORDER_URL: 'http://handlers:4100/validate-order',
      CHARGE_PAYMENT_URL: 'http://handlers:4100/charge-payment',
      ...STEP_URLS,
    });
    const started = await p.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    // The broker's two triggers, and one per workflow handler (assign-driver is a step of order-fulfilment).
    expect((started.triggers as string[]).sort()).toEqual([
      'charge-payment',
      'validate-order',
      'workflow.order-fulfilment.v1.assign-driver',
      'workflow.order-fulfilment.v1.decline-unanswered',
      'workflow.order-fulfilment.v1.refund-payment',
      'workflow.refund-late-payment.v1.refund-payment',
    ]);
  });
});

describe('outside production', () => {
  it('starts, with one warning naming the unset variables', async () => {
    const p = await dispatch({ NODE_ENV: 'test' });
    await p.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    const warnings = p.logs.filter((l) => l.level === 40 && String(l.msg).startsWith('dispatch needs'));
    expect(warnings.map((l) => l.msg)).toEqual([
      'dispatch needs environment variables that are unset: VALIDATE_ORDER_URL (webhook URL of trigger validate-order), ' +
        `CHARGE_PAYMENT_URL (webhook URL of trigger charge-payment), ${WORKFLOW_NEEDS}; ` +
        'their deliveries fail until they are set',
    ]);
  });

  it("warns about a workflow handler's variable alone", async () => {
    const p = await dispatch({
      NODE_ENV: 'development',
      VALIDATE_ORDER_URL: 'http://handlers:4100/validate-order',
      CHARGE_PAYMENT_URL: 'http://handlers:4100/charge-payment',
      ...STEP_URLS,
      REFUND_PAYMENT_URL: '',
    });
    await p.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    const warnings = p.logs.filter((l) => l.level === 40 && String(l.msg).startsWith('dispatch needs'));
    expect(warnings.map((l) => l.msg)).toEqual([
      'dispatch needs environment variables that are unset: ' +
        "REFUND_PAYMENT_URL (webhook URL of workflow order-fulfilment's handler refund-payment, webhook URL of workflow refund-late-payment's handler refund-payment); " +
        'their deliveries fail until they are set',
    ]);
  });
});
