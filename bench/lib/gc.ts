/**
 * A full garbage collection in this process, through the V8 inspector (no
 * --expose-gc flag needed), so a memory reading counts what is retained, not
 * garbage left over from the work just done.
 */
import { Session } from 'node:inspector/promises';

export async function collectGarbage(): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.collectGarbage');
  } finally {
    session.disconnect();
  }
}
