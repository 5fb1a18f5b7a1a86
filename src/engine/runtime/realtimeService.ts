/**
 * The realtime hub as a service of the API process: started before the API
 * listens, so subscriptions are served only once the hub does; stopping it
 * ends every open subscription and UNLISTENs. The API's own drain ends them
 * earlier still (its SSE responses must finish before it waits for its
 * in-flight requests), so when this stops after the API it finds them ended:
 * both calls are idempotent.
 */
import type { Realtime } from '../realtime/realtime.js';
import type { Service } from './service.js';

export function realtimeService(realtime: Pick<Realtime, 'start' | 'close'>): Service {
  return {
    name: 'realtime hub',
    start: () => realtime.start(),
    stop: () => realtime.close(),
  };
}
