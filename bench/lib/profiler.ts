/**
 * A V8 CPU profile of part of a child process's life (node:inspector in the
 * process itself), for scenarios that profile a measured window under
 * BENCH_CPU_PROF. Read the file with bench/profile.ts or Chrome DevTools.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** Runs `fn`, profiled into `file` when a file is given. */
export async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
  }
}
