import type { IncomingMessage } from 'node:http'

/**
 * How much of a refused body is read and thrown away before answering. A client still writing
 * when the server closes the connection gets EPIPE or a reset, which may discard the answer it
 * has not read yet: a body read to its end first lets it see the problem. Past the bound the
 * answer goes and the connection closes as before; a client sending more gains nothing.
 */
export const refusedBodyBound = { bytes: 16 * 1024 * 1024, ms: 5_000 } as const

/** Whether the body is all in: read by the server (`complete`), or by an injected request's reader. */
function arrived (request: IncomingMessage): boolean {
  return request.complete || request.readableEnded
}

/**
 * Calls `then` once the request's body has arrived in full (true) or the bound was passed first
 * (false); at once when nothing more will come.
 */
export function afterRefusedBody (request: IncomingMessage, then: (complete: boolean) => void): void {
  if (arrived(request) || request.destroyed) {
    then(arrived(request))
    return
  }
  let seen = 0
  const finish = () => {
    clearTimeout(timer)
    request.off('data', count).off('end', finish).off('error', finish).off('close', finish)
    then(arrived(request))
  }
  const count = (chunk: Buffer) => {
    seen += chunk.length
    if (seen > refusedBodyBound.bytes) finish()
  }
  const timer = setTimeout(finish, refusedBodyBound.ms)
  request.on('data', count).once('end', finish).once('error', finish).once('close', finish)
  request.resume()
}
