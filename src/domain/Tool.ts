import packageJson from "../../package.json" with { type: "json" }

/** The tool's name and version, as `package.json` states them: reports and `--version` say which build wrote a run. */
export const TOOL_NAME: string = packageJson.name
export const TOOL_VERSION: string = packageJson.version
