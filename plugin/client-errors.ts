/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over the size limit,
 * malformed HTTP, a request that takes too long to arrive) get Node's bare status line, or a reset
 * when the client is still sending. answerClientErrors(server) answers them as the API answers
 * everything else, an RFC 9457 problem, whenever nothing of a response was written yet.
 */
import { maxHeaderSize as defaultMaxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { Problem, type ProblemKind } from './problems.ts';

/**
 * How long a refused connection may go on sending before it is cut. Reading the rest of an
 * oversized request, rather than closing on it, lets the client read the answer instead of a reset.
 */
const LINGER_MS = 1000;

function problemFor(err: NodeJS.ErrnoException, maxHeaderSize: number): Problem {
  const known: Record<string, [ProblemKind, string]> = {
    HPE_HEADER_OVERFLOW: [
      'headers-too-large',
      `the request line and headers are larger than the ${maxHeaderSize} bytes this server reads; send fewer or shorter headers (large cookies are the usual cause)`,
    ],
    HPE_CHUNK_EXTENSIONS_OVERFLOW: ['payload-too-large', 'the chunk extensions of the body are too large; send the body without chunk extensions'],
    ERR_HTTP_REQUEST_TIMEOUT: ['request-timeout', 'the request did not arrive in full in time; send it again'],
  };
  const [kind, detail] = known[err.code ?? ''] ?? [
    'malformed-request',
    `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'}: ${err.message}); check the client or proxy that sent it`,
  ];
  return new Problem(kind, detail);
}

/** Listens to the server's 'clientError' in place of Node's default answer. */
export function answerClientErrors(server: Server): void {
  const maxHeaderSize = (server as Server & { maxHeaderSize?: number }).maxHeaderSize ?? defaultMaxHeaderSize;
  // The parser reports each further chunk of a refused request again: one answer per connection.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    answered.add(socket);
    // As Node does: no answer on a connection that is gone or whose response has begun (it would corrupt it).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy(err);
    const problem = problemFor(err, maxHeaderSize);
    const body = JSON.stringify(problem.body());
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    const cut = setTimeout(() => socket.destroy(), LINGER_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  });
}
