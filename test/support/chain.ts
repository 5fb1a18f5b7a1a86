/**
 * The food-delivery chain as production runs it, for end-to-end tests: the
 * `handlers` and `dispatch` commands as child processes, wired to a test
 * API over real HTTP (the API itself is the test's own, startTestApi).
 */
import { TEST_SECRET, type TestApi } from './api.js';
import { urlFor, type TestDatabase } from './db.js';
import { TEST_WEBHOOK_SECRET } from './events.js';
import { runCommand, stopProcess, type CommandProcess } from './processes.js';

export interface Chain {
  handlers: CommandProcess;
  dispatcher: CommandProcess;
  /** SIGTERM both (SIGKILL after the grace), dispatcher first; safe to call when a start failed half way. */
  stop(): Promise<void>;
}

/** Extra environment per process (e.g. the handlers' PAYMENT_PROVIDER_URL, the dispatcher's workflow timeouts). */
export interface ChainEnv {
  handlers?: Record<string, string>;
  dispatcher?: Record<string, string>;
}

export async function startChain(db: TestDatabase, api: TestApi, env: ChainEnv = {}): Promise<Chain> {
  const base = { NODE_ENV: 'test', LOG_LEVEL: 'info', AUTH_JWT_SECRET: TEST_SECRET, WEBHOOK_SECRET: TEST_WEBHOOK_SECRET };
  let dispatcher: CommandProcess | undefined;
  const handlers = runCommand(['handlers'], {
    ...base,
    HOST: '127.0.0.1',
    HANDLERS_PORT: '0',
    API_URL: `${api.url}/graphql`,
    SERVICE_TOKEN: await api.token('service', 'handlers'),
    ...env.handlers,
  });
  const stop = async () => {
    await stopProcess(dispatcher);
    await stopProcess(handlers);
  };
  try {
    const { url } = await handlers.waitForLog((l) => l.msg === 'handlers listening', 30_000);
    dispatcher = runCommand(['dispatch'], {
      ...base,
      DATABASE_URL: urlFor(db.name),
      DISPATCH_POLL_MS: '200',
      VALIDATE_ORDER_URL: `${String(url)}/validate-order`,
      CHARGE_PAYMENT_URL: `${String(url)}/charge-payment`,
      ASSIGN_DRIVER_URL: `${String(url)}/assign-driver`,
      DECLINE_UNANSWERED_URL: `${String(url)}/decline-unanswered`,
      REFUND_PAYMENT_URL: `${String(url)}/refund-payment`,
      ...env.dispatcher,
    });
    await dispatcher.waitForLog((l) => l.msg === 'dispatcher started', 30_000);
    return { handlers, dispatcher, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
