/** Paths as every command prints them; the rule lives in store/ so the pipeline prints them the same way. */
export { displayPath } from "../store/DisplayPath.js"
