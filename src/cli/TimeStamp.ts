/** `output/<name>/20261125T101500Z`: sortable, safe as a file name. */
export const timeStamp = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
