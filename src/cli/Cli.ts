import { Command } from "@effect/cli"
import { TOOL_NAME, TOOL_VERSION } from "../domain/Tool.js"
import { emulatorCommand } from "./EmulatorCommand.js"
import { planCommand } from "./PlanCommand.js"
import { replayCommand } from "./ReplayCommand.js"
import { resumeCommand } from "./ResumeCommand.js"
import { runCommand } from "./RunCommand.js"
import { schemaCommand } from "./SchemaCommand.js"

const shotlist = Command.make("shotlist").pipe(
  Command.withDescription(
    "Render storyboards of video shots with Seedance 1.5 Pro on Segmind's async API, reproducibly. Start with `shotlist plan MANIFEST`, then `shotlist run MANIFEST` (add --emulator to try it for free)."
  ),
  Command.withSubcommands([runCommand, resumeCommand, replayCommand, planCommand, schemaCommand, emulatorCommand])
)

export const cli = Command.run(shotlist, { name: TOOL_NAME, version: TOOL_VERSION })
