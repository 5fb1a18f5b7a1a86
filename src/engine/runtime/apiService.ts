/**
 * The HTTP API as a service: start listens (and reports where), stop drains
 * by the deadline: readiness fails, sockets close with 1001, subscriptions
 * end, in-flight requests finish or are cut at the deadline.
 */
import { msUntil } from '../lib.js';
import type { ApiServer } from '../server/http.js';
import type { Service } from './service.js';

export interface Listening {
  port: number;
  url: string;
}

export function apiService(api: Pick<ApiServer, 'listen' | 'drain'>, at: { port: number; host: string }, onListening: (where: Listening) => void): Service {
  return {
    name: 'api',
    async start() {
      onListening(await api.listen(at.port, at.host));
    },
    stop: (deadline) => api.drain(msUntil(deadline)),
  };
}
