/**
 * graphql-sse's "single connection" mode is refused with a clear answer.
 * That mode reserves a stream with a PUT, then sends each operation in its
 * own POST carrying the reservation token (the `x-graphql-event-stream-token`
 * header, or the `token` query parameter of an EventSource GET): the
 * reservation lives in one server process's memory, so every request of a
 * client would need sticky routing to that process, which stateless API
 * processes behind a load balancer do not give. "Distinct connections" mode
 * (graphql-sse's default: one SSE request per operation) is served by yoga.
 * Without this, the PUT got yoga's bare 405 and the client no reason.
 */
import type { Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../graphql/errors.js';

/** graphql-sse's reservation token header and query parameter (its `TOKEN_HEADER_KEY`, `TOKEN_QUERY_KEY`). */
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TOKEN_PARAM = 'token';

export const SINGLE_CONNECTION_UNSUPPORTED =
  'graphql-sse single connection mode is not supported (it needs sticky routing to one server process): ' +
  'use distinct connections mode, the client default (singleConnection: false)';

export function refuseSseSingleConnection(): Plugin {
  let endpoint = '/graphql';
  return {
    onYogaInit({ yoga }) {
      endpoint = yoga.graphqlEndpoint;
    },
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      if (request.method !== 'PUT' && !request.headers.has(TOKEN_HEADER) && !url.searchParams.has(TOKEN_PARAM)) return;
      const code: ErrorCode = 'BAD_REQUEST';
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [{ message: SINGLE_CONNECTION_UNSUPPORTED, extensions: { code } }] }), {
          status: 400,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}
