import type { HelpDoc } from "@effect/cli"
import { CliConfig, Command, Usage } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"

/** Help fits a 100-column terminal, and a cron mail or CI log read in one. */
export const HELP_WIDTH = 100

/** A subcommand as help shows it. */
export interface HelpSubject {
  readonly usage: Usage.Usage
  readonly help: HelpDoc.HelpDoc
}

export const helpSubject = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>): HelpSubject => ({
  usage: Command.getUsage(command),
  // The built-in flags are listed once, in `shotlist --help`.
  help: Command.getHelp(command, CliConfig.make({ showBuiltIns: false }))
})

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

/** `text` broken at spaces into lines of at most `width` columns; the first starts with `first`, the others with `rest`. */
export const wrap = (text: string, first: string, rest: string, width = HELP_WIDTH): ReadonlyArray<string> =>
  wrapWords(text.split(/\s+/).filter((part) => part.length > 0), first, rest, width)

/** `words` joined by spaces into lines of at most `width` columns (a longer word stands alone). */
const wrapWords = (
  words: ReadonlyArray<string>,
  first: string,
  rest: string,
  width = HELP_WIDTH
): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = first
  let started = false
  for (const word of words) {
    if (started && line.length + 1 + word.length > width) {
      lines.push(line)
      line = rest + word
    } else {
      line = started ? `${line} ${word}` : line + word
    }
    started = true
  }
  lines.push(line)
  return lines.map((each) => each.trimEnd())
}

interface Entry {
  readonly term: string
  readonly paragraphs: ReadonlyArray<string>
}

type Block =
  | { readonly _tag: "Header"; readonly text: string }
  | { readonly _tag: "Paragraph"; readonly text: string }
  | { readonly _tag: "Entries"; readonly entries: ReadonlyArray<Entry> }

/** @effect/cli's own sentences, which each flag's text says better: its default, whether it repeats. */
const BOILERPLATE = new Set(["This setting is optional.", "This option may be repeated zero or more times."])

const blocksOf = (doc: HelpDoc.HelpDoc): ReadonlyArray<Block> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
      return [{ _tag: "Header", text: spanText(doc.value) }]
    case "Paragraph":
      return [{ _tag: "Paragraph", text: spanText(doc.value) }]
    case "Enumeration":
      return doc.elements.flatMap(blocksOf)
    case "Sequence":
      return [...blocksOf(doc.left), ...blocksOf(doc.right)]
    case "DescriptionList":
      return [{
        _tag: "Entries",
        entries: doc.definitions.map(([term, body]) => ({
          term: spanText(term).replace(/^<(.*)>$/, "$1"),
          // The first paragraph names the value's type ("An integer."), which the term shows already.
          paragraphs: paragraphsOf(body).slice(1).filter((text) => !BOILERPLATE.has(text))
        }))
      }]
  }
}

const paragraphsOf = (doc: HelpDoc.HelpDoc): ReadonlyArray<string> =>
  blocksOf(doc).flatMap((block) =>
    block._tag === "Entries"
      ? block.entries.flatMap((entry) => [entry.term, ...entry.paragraphs])
      : [block.text]
  )

const renderBlocks = (blocks: ReadonlyArray<Block>): ReadonlyArray<string> =>
  blocks.flatMap((block) => {
    switch (block._tag) {
      case "Header":
        return ["", block.text]
      case "Paragraph":
        return wrap(block.text, "  ", "  ")
      case "Entries":
        return block.entries.flatMap((entry) => [
          `  ${entry.term}`,
          ...entry.paragraphs.flatMap((text) => wrap(text, "      ", "      "))
        ])
    }
  })

const usageText = (usage: Usage.Usage): string =>
  Usage.enumerate(usage, CliConfig.defaultConfig).map((span) => spanText(span)).join(" ")

/** A usage line's pieces, each kept whole on a line: `[--rpm integer]`, `--only text...` (shown optional, as it is). */
const usagePieces = (usage: string): ReadonlyArray<string> =>
  (usage.match(/\[[^\]]*\]|--\S+(?: [^\s[<-]\S*)?|\S+/g) ?? []).map((piece) =>
    /^--\S+ \S+\.\.\.$/.test(piece) ? `[${piece}]` : piece
  )

/** `shotlist run --help`: the usage line as typed, the description, then every argument and flag with its default. */
export const commandHelp = (subject: HelpSubject): string =>
  [
    "USAGE",
    ...wrapWords(["shotlist", ...usagePieces(usageText(subject.usage))], "  ", "      "),
    ...renderBlocks(blocksOf(subject.help))
  ].join("\n")

/** What help says a command does in one line: the first sentence of its description. */
const summaryOf = (help: HelpDoc.HelpDoc): string => {
  const blocks = blocksOf(help)
  const at = blocks.findIndex((block) => block._tag === "Header" && block.text === "DESCRIPTION")
  const description = blocks[at + 1]
  const text = at >= 0 && description?._tag === "Paragraph" ? description.text : ""
  return text.split(/(?<=\.)\s+(?=[A-Z`])/)[0] ?? ""
}

/** `run MANIFEST`, `list [DIR]`: a command and its arguments, without its flags. */
const synopsisOf = (name: string, usage: Usage.Usage): string =>
  [name, ...(usageText(usage).match(/\[<[^>]+>\]|<[^>]+>/g) ?? []).map((arg) => arg.replace(/[<>]/g, ""))].join(" ")

/** A two-column table: terms padded to one width, descriptions wrapped beside them. */
const table = (rows: ReadonlyArray<readonly [string, string]>): ReadonlyArray<string> => {
  const column = Math.min(28, Math.max(...rows.map(([term]) => term.length)) + 4)
  return rows.flatMap(([term, text]) =>
    term.length + 4 > column
      ? [`  ${term}`, ...wrap(text, " ".repeat(column), " ".repeat(column))]
      : wrap(text, `  ${term}`.padEnd(column), " ".repeat(column))
  )
}

const BUILT_IN_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ["-h, --help", "this help; after a command, that command's arguments and flags with their defaults"],
  ["--version", "print shotlist's version"],
  ["--completions SHELL", "print a completion script for sh, bash, fish or zsh (none by default)"],
  [
    "--log-level LEVEL",
    "least severe log line shown: trace, debug, info, warning, error, fatal or none (default: info)"
  ],
  ["--wizard", "build a command line by answering questions; needs a terminal (off by default)"]
]

/** `shotlist --help`: what shotlist is, its commands with what each does, and the flags every command takes. */
export const overviewHelp = (
  version: string,
  description: string,
  commands: ReadonlyArray<readonly [string, HelpSubject]>
): string =>
  [
    `shotlist ${version}`,
    "",
    ...wrap(description, "", ""),
    "",
    "USAGE",
    "  shotlist COMMAND [ARGUMENTS] [FLAGS]",
    "  shotlist COMMAND --help",
    "",
    "COMMANDS",
    ...table(commands.map(([name, subject]) => [synopsisOf(name, subject.usage), summaryOf(subject.help)])),
    "",
    "FLAGS",
    ...table(BUILT_IN_FLAGS)
  ].join("\n")
