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
