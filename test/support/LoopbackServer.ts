import { Effect } from "effect"
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** One request a loopback server received, as it arrived. */
export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
}

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`: another port is another origin */
  readonly url: string
  readonly seen: ReadonlyArray<SeenRequest>
}

export type LoopbackHandler = (request: IncomingMessage, response: ServerResponse, server: LoopbackServer) => void

/**
 * A small HTTP server on 127.0.0.1 for one test, answering as `handle` says
 * and recording every request; closed (connections included) with the scope.
 */
export const loopbackServer = (handle: LoopbackHandler) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: ReturnType<typeof createServer>; readonly handle: LoopbackServer }>((resume) => {
      const seen: Array<SeenRequest> = []
      const state = { url: "", seen }
      const server = createServer((request, response) => {
        seen.push({ method: request.method ?? "", path: request.url ?? "", headers: { ...request.headers } })
        handle(request, response, state)
      })
      server.listen(0, "127.0.0.1", () => {
        state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        resume(Effect.succeed({ server, handle: state }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ handle }) => handle))

/** Answers JSON with `status`. */
export const answerJson = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
) => {
  response.writeHead(status, { "content-type": "application/json", ...headers })
  response.end(JSON.stringify(body))
}

/** Bytes a server handed to the socket: what a client may have read, give or take the socket's buffers. */
export interface SentCount {
  bytes: number
}

/**
 * Writes `head`, then `fill` bytes up to `total`, only as fast as the client
 * takes them (never held whole); stops when the connection closes.
 */
export const streamBody = (
  response: ServerResponse,
  options: { readonly head?: Uint8Array; readonly total: number; readonly fill: number },
  sent: SentCount
) => {
  const chunkBytes = 64 * 1024
  const filler = Buffer.alloc(chunkBytes, options.fill)
  let queued = 0
  const write = (chunk: Uint8Array) => {
    queued += chunk.length
    return response.write(chunk, (error) => {
      if (error === undefined || error === null) sent.bytes += chunk.length
    })
  }
  const pump = () => {
    while (queued < options.total && !response.destroyed) {
      if (!write(filler.subarray(0, Math.min(chunkBytes, options.total - queued)))) {
        return void response.once("drain", pump)
      }
    }
    if (queued >= options.total) response.end()
  }
  if (options.head === undefined || write(options.head)) pump()
  else response.once("drain", pump)
}
