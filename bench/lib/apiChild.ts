/**
 * Child process entry: the real API (createApi on one postgres.js pool, as
 * `start` wires it) on a loopback port, configured only by its environment.
 * It reports its URL, answers CPU-usage probes, profiles a window on
 * request (V8 inspector), collects garbage on request (before memory
 * readings), and drains on request.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadApp } from '../../src/cli/apps.js';
import { loadConfig } from '../../src/engine/config.js';
import { connect } from '../../src/engine/db/client.js';
import { createLogger } from '../../src/engine/log.js';
import { createApi } from '../../src/engine/server/api.js';
import { onParent, toParent } from './child.js';
import { cpuSample } from './cpu.js';
import { collectGarbage } from './gc.js';
import type { ApiChildIn, ApiChildOut } from './apiProcess.js';

const send = (m: ApiChildOut) => toParent<ApiChildOut>(m);

const config = loadConfig();
if (!config.DATABASE_URL) throw new Error('the benchmark API needs DATABASE_URL');
const log = createLogger(config.LOG_LEVEL).child({ process: 'bench-api' });
const database = connect(config.DATABASE_URL, { max: config.DATABASE_POOL_MAX, log, applicationName: 'threefactor-bench-api' });
const api = createApi(config, database, log, await loadApp(config.APP));
const { port } = await api.listen(config.PORT, config.HOST);

// The V8 profiler of this process, started and stopped by the parent around a measured window.
let profiler: Session | undefined;

onParent<ApiChildIn>(async (message) => {
  if (message.type === 'cpu') send({ type: 'cpu', sample: cpuSample() });
  if (message.type === 'profileStart') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    send({ type: 'profileStarted' });
  }
  if (message.type === 'profileStop' && profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    await writeFile(message.file, JSON.stringify(profile));
    send({ type: 'profileWritten', file: message.file });
  }
  if (message.type === 'collectGarbage') {
    await collectGarbage();
    send({ type: 'collected' });
  }
  if (message.type === 'stop') {
    await api.drain(2_000);
    await database.close();
    send({ type: 'stopped' });
    process.exit(0);
  }
});
send({ type: 'ready', url: `http://127.0.0.1:${port}`, poolMax: config.DATABASE_POOL_MAX });
