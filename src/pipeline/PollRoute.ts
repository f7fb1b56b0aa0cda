import { Effect, Ref } from "effect"
import type { StatusAnswer } from "../segmind/SegmindClient.js"
import type { PollSettings } from "./PollSchedule.js"

/** Which URL a poll asks: the status URL, or the result URL where the API answers it "not yet". */
export type PollVia = "status" | "result"

/** Which URL the run polled, and why: what its report says. */
export interface PollRoute {
  readonly via: PollVia
  readonly reason: string
}

/** What a poll's first try saw: a status, an error, or a result URL answer that is no poll answer. */
export type RouteSeen = StatusAnswer["status"] | "error" | { readonly answered: string }

/** The run's route: decided, or still a probe (auto) until a result URL answers "not yet" or something else. */
interface RouteState {
  readonly via: PollVia | "probe"
  /** why, once an answer (or the settings) decided it */
  readonly reason: string | undefined
}

/**
 * The URL a run's polls ask. On auto the first poll probes the result URL:
 * "not yet" there makes result URLs the route (2 calls a job); any odd answer
 * of a result URL, at the probe or later, sends the run to status URLs for
 * good. Each move is logged once.
 */
export const makePollRoute = (settings: PollSettings) =>
  Effect.gen(function*() {
    const route = yield* Ref.make<RouteState>(
      settings.pollVia === "status"
        ? { via: "status", reason: "--poll-via status: status URLs only, as documented" }
        : { via: "probe", reason: undefined }
    )

    /** The route moves from a probe to either URL, and from the result URL back to status URLs. */
    const move = (next: RouteState, told: string) =>
      Ref.modify(route, (current): readonly [boolean, RouteState] =>
        current.via === "probe" || (current.via === "result" && next.via === "status")
          ? [next.via !== current.via, next]
          : [false, current]).pipe(Effect.flatMap((moved) => (moved ? Effect.logInfo(told) : Effect.void)))

    /** What a poll sent on route `via` saw moves the route: "not yet" to result URLs, anything odd to status URLs. */
    const learn = (via: RouteState["via"], seen: RouteSeen): Effect.Effect<void> => {
      if (typeof seen !== "string") {
        const reason = via === "probe"
          ? `probe: the result URL answered ${seen.answered} for a request in flight`
          : `the result URL answered "not yet", then ${seen.answered} for a request in flight`
        return move({ via: "status", reason }, `polling status URLs: ${reason}`)
      }
      if (via !== "probe") {
        return Effect.void
      }
      // A finished video says nothing of "not yet"; an error, nothing at all: the probe goes on, its reason noted.
      const reason = seen === "COMPLETED"
        ? "probe: the result URL answered with the finished video; no \"not yet\" seen so far"
        : seen === "error"
        ? "probe: the result URL was asked; no answer has decided the route yet"
        : undefined
      if (reason !== undefined) {
        return Ref.update(route, (current) =>
          current.via === "probe" && (seen === "COMPLETED" || current.reason === undefined)
            ? { ...current, reason }
            : current)
      }
      return move(
        { via: "result", reason: `probe: the result URL answered "not yet" (${seen}) for a request in flight` },
        `polling result URLs: they answer "not yet" (${seen}), so a job takes 2 calls`
      )
    }

    return {
      /** where the next poll goes: a probe asks the result URL */
      next: Ref.get(route).pipe(Effect.map((state) =>
        state.via
      )),
      learn,
      /** what the report says: the URL polls asked (a probe's), and why; none while nothing was polled */
      polledVia: Effect.map(
        Ref.get(route),
        ({ reason, via }): PollRoute | undefined =>
          reason === undefined ? undefined : { via: via === "probe" ? "result" : via, reason }
      )
    }
  })
