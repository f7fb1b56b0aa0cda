import { describe, expect, it } from "@effect/vitest"
import type { SweepValue } from "../../src/domain/Job.js"
import type { JobReport } from "../../src/domain/JobReport.js"
import { SEEDANCE_DEFAULTS } from "../../src/domain/SeedanceParams.js"
import { type ShotLayout, shotLayout, storyboard } from "../../src/report/SheetLayout.js"

const job = (shot: string, sweep: Record<string, SweepValue> | undefined, take?: number): JobReport => {
  const id = [
    shot,
    ...Object.entries(sweep ?? {}).map(([key, value]) => `${key}=${String(value)}`),
    ...(take === undefined ? [] : [`take=${take}`])
  ].join("~")
  return {
    id,
    shot,
    ...(sweep === undefined ? {} : { sweep }),
    ...(take === undefined ? {} : { take }),
    status: "completed",
    seed: 1,
    seedDrawn: false,
    params: { ...SEEDANCE_DEFAULTS, prompt: "p", seed: 1 },
    attempts: 1
  }
}

/** Every combination of the sweep, first key slowest, each with `takes` takes: as the manifest expands a shot. */
const expand = (shot: string, sweep: Record<string, ReadonlyArray<SweepValue>>, takes?: number) =>
  Object.entries(sweep)
    .reduce<ReadonlyArray<Record<string, SweepValue>>>(
      (partial, [key, values]) => partial.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value }))),
      [{}]
    )
    .flatMap((combo) =>
      takes === undefined
        ? [job(shot, combo)]
        : Array.from({ length: takes }, (_, i) => job(shot, combo, i + 1))
    )

/** The grid as ids: `[grid][row][column][take]`. */
const ids = (layout: ShotLayout) =>
  layout.grids.map((grid) => grid.cells.map((row) => row.map((cell) => cell.map((j) => j.id))))

describe("the contact sheet's grid of a shot", () => {
  it("two swept keys: the first down the rows, the second across the columns, takes side by side in a cell", () => {
    const jobs = expand("dunes", { seed: [11, 12, 13], camera_fixed: [true, false] }, 2)
    const layout = shotLayout("dunes", jobs)
    expect(layout.rows).toEqual({ key: "seed", values: [11, 12, 13] })
    expect(layout.columns).toEqual({ key: "camera_fixed", values: [true, false] })
    expect(layout.groups).toEqual([])
    expect(layout.width).toBe(2)
    expect(ids(layout)).toEqual([[
      [
        ["dunes~seed=11~camera_fixed=true~take=1", "dunes~seed=11~camera_fixed=true~take=2"],
        ["dunes~seed=11~camera_fixed=false~take=1", "dunes~seed=11~camera_fixed=false~take=2"]
      ],
      [
        ["dunes~seed=12~camera_fixed=true~take=1", "dunes~seed=12~camera_fixed=true~take=2"],
        ["dunes~seed=12~camera_fixed=false~take=1", "dunes~seed=12~camera_fixed=false~take=2"]
      ],
      [
        ["dunes~seed=13~camera_fixed=true~take=1", "dunes~seed=13~camera_fixed=true~take=2"],
        ["dunes~seed=13~camera_fixed=false~take=1", "dunes~seed=13~camera_fixed=false~take=2"]
      ]
    ]])
  })

  it("more keys: one grid per combination of the keys past the second", () => {
    const jobs = expand("sea", {
      seed: [1, 2],
      duration: [4, 6],
      resolution: ["480p", "720p"],
      generate_audio: [true, false]
    })
    const layout = shotLayout("sea", jobs)
    expect(layout.rows?.key).toBe("seed")
    expect(layout.columns?.key).toBe("duration")
    expect(layout.groups.map((axis) => axis.key)).toEqual(["resolution", "generate_audio"])
    expect(layout.grids.map((grid) => grid.fixed)).toEqual([
      [["resolution", "480p"], ["generate_audio", true]],
      [["resolution", "480p"], ["generate_audio", false]],
      [["resolution", "720p"], ["generate_audio", true]],
      [["resolution", "720p"], ["generate_audio", false]]
    ])
    for (const grid of layout.grids) {
      expect(grid.cells.map((row) => row.map((cell) => cell.length))).toEqual([[1, 1], [1, 1]])
      for (const cell of grid.cells.flat(2)) {
        for (const [key, value] of grid.fixed) expect(cell.sweep?.[key]).toBe(value)
      }
    }
    expect(ids(layout)[3]?.[1]?.[0]).toEqual(["sea~seed=2~duration=4~resolution=720p~generate_audio=false"])
  })

  it("one swept key goes across; takes alone go side by side in one row; a plain shot is one cell", () => {
    const swept = shotLayout("a", expand("a", { camera_fixed: [true, false] }))
    expect([swept.rows, swept.columns?.key, ids(swept)]).toEqual([
      undefined,
      "camera_fixed",
      [[[["a~camera_fixed=true"], ["a~camera_fixed=false"]]]]
    ])
    const takes = shotLayout("b", [job("b", undefined, 2), job("b", undefined, 1), job("b", undefined, 3)])
    expect([takes.rows, takes.columns, takes.width, ids(takes)]).toEqual([
      undefined,
      undefined,
      3,
      [[[["b~take=1", "b~take=2", "b~take=3"]]]]
    ])
    const plain = shotLayout("c", [job("c", undefined)])
    expect([plain.width, ids(plain)]).toEqual([1, [[[["c"]]]]])
  })

  it("a combination the run left out is an empty cell; every job of the shot is in exactly one cell", () => {
    const jobs = expand("d", { seed: [1, 2], camera_fixed: [true, false] }).filter((j) =>
      j.id !== "d~seed=2~camera_fixed=false"
    )
    const layout = shotLayout("d", jobs)
    expect(ids(layout)).toEqual([[[["d~seed=1~camera_fixed=true"], ["d~seed=1~camera_fixed=false"]], [[
      "d~seed=2~camera_fixed=true"
    ], []]]])
    expect(new Set(layout.jobs.map((j) => j.id))).toEqual(new Set(jobs.map((j) => j.id)))
    expect(layout.jobs).toHaveLength(jobs.length)
  })

  it("jobs that do not all sweep the same keys are laid out flat rather than dropped", () => {
    const jobs = [job("e", { seed: 1 }), job("e", { camera_fixed: true })]
    const layout = shotLayout("e", jobs)
    expect([layout.rows, layout.columns, layout.width]).toEqual([undefined, undefined, 2])
    expect(layout.jobs.map((j) => j.id)).toEqual(["e~seed=1", "e~camera_fixed=true"])
  })

  it("shots come in the order they first appear", () => {
    const jobs = [job("b", { seed: 1 }), job("a", undefined), job("b", { seed: 2 })]
    expect(storyboard(jobs).map(([shot, of]) => [shot, of.map((j) => j.id)])).toEqual([
      ["b", ["b~seed=1", "b~seed=2"]],
      ["a", ["a"]]
    ])
  })
})
