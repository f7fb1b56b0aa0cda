import { isAbsolute, relative, resolve, sep } from "node:path"

/**
 * A path as every command prints it: relative to the working folder when
 * inside it (`output/example/20261125T101500Z`), else absolute, whichever
 * way it was given, so the lines of run, resume, replay and plan agree.
 */
export const displayPath = (path: string, workingFolder: string = process.cwd()): string => {
  const absolute = resolve(workingFolder, path)
  const inside = relative(workingFolder, absolute)
  if (inside === "") return "."
  return inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside) ? absolute : inside
}
