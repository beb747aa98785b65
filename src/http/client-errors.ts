import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { problemOf, type Problem } from './problems.js'
import { apiSecurityHeaders } from './security-headers.js'

// Not `import { STATUS_CODES } from 'node:http'`: node:http's ES module facade reads every export,
// and its WebSocket getters load undici, a twentieth of a second of every start for nothing.
const { STATUS_CODES } = process.getBuiltinModule('node:http')

/**
 * What Node's HTTP parser refuses before Fastify sees a request: no route, hook or error handler
 * runs, so the answer is written to the socket here, in the service's one error format. Nothing
 * of the request is echoed: it is what could not be parsed, maybe 100 kB of it.
 */
export function answerClientError (this: FastifyInstance, error: NodeJS.ErrnoException, socket: Duplex): void {
  // The peer is gone: nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const problem = problemOfCode(error.code)
  this.log.info({ code: error.code, status: problem.status }, problem.detail)
  if (socket.writable) {
    const body = JSON.stringify(problem)
    const headers = {
      ...apiSecurityHeaders,
      'content-type': 'application/problem+json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    }
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n${head}\r\n${body}`)
  }
  socket.destroy(error)
}

function problemOfCode (code: string | undefined): Problem {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return problemOf('request-timeout', 'the request did not arrive in full within the server\'s time limit')
  if (code === 'HPE_HEADER_OVERFLOW') return problemOf('header-fields-too-large', 'the request line and headers together pass the server\'s size limit')
  return problemOf('malformed-request', 'the request is not valid HTTP/1.1')
}
