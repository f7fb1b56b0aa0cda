import { Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { manifestJsonSchemaText } from "../manifest/ManifestSchema.js"

export const schemaCommand = Command.make(
  "schema",
  {},
  () => Effect.suspend(() => Console.log(manifestJsonSchemaText()))
).pipe(
  Command.withDescription(
    "Print the JSON Schema of a manifest, generated from the schema that validates it. Save it with `shotlist schema > manifest.schema.json` and put `# yaml-language-server: $schema=manifest.schema.json` (a path relative to the manifest, or a URL) on a manifest's first line: editors with the YAML language server then complete fields, show their help and flag mistakes as you type."
  )
)
