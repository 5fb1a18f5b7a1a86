/**
 * Why a command could not start, in one line an operator can act on, as a
 * config error reads: the database it could not reach or open is named by
 * its variable and address (never its URL, which may hold a password), and
 * anything else by the first line of its message. The stack is for
 * LOG_LEVEL=debug, not for this line.
 */
import { connectionLoss, errorChain } from '../db/connectionLoss.js';
import { errorMessage } from '../lib.js';

const MAX_LENGTH = 160;

/** SQLSTATEs a server answers at connect time, whose own message names the problem (database, role, password). */
const REFUSED_AT_CONNECT = new Set(['3D000', '28000', '28P01', '42501', '53300', '57P03']);

interface SocketError extends Error {
  code: string;
  address?: string;
  port?: number;
  hostname?: string;
}

function unreachable(err: SocketError): string {
  const at = err.address ? `${err.address}${err.port ? `:${err.port}` : ''}` : undefined;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `DATABASE_URL: connection refused${at ? ` at ${at}` : ''}; is PostgreSQL running there?`;
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return `DATABASE_URL: no answer from the database${at ? ` at ${at}` : ''} (${err.code})`;
    default:
      return `DATABASE_URL: cannot reach the database (${err.code}): ${firstLine(err.message)}`;
  }
}

const firstLine = (text: string) => text.split('\n', 1)[0]!.trim();

export function startupErrorMessage(err: unknown): string {
  const chain = errorChain(err);
  const notFound = chain.find((e): e is SocketError => ['ENOTFOUND', 'EAI_AGAIN'].includes(String((e as { code?: unknown }).code)));
  const refused = chain.find((e): e is Error & { code: string } => e instanceof Error && REFUSED_AT_CONNECT.has(String((e as { code?: unknown }).code)));
  const lost = connectionLoss(err) as SocketError | undefined;
  const line = notFound
    ? `DATABASE_URL: database host ${notFound.hostname ? `${notFound.hostname} ` : ''}not found (${notFound.code})`
    : refused
      ? `DATABASE_URL: ${firstLine(refused.message)}`
      : lost
        ? unreachable(lost)
        : firstLine(errorMessage(err));
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line;
}
