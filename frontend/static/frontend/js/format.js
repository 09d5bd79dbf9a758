// How the pages write values into HTML and text: escaping for innerHTML templates, numbers with a dash
// for a missing value, percentages, file sizes. One copy here instead of one per page script, so a page
// cannot escape one character fewer than another or print "NaN" where its neighbour prints "–".

/** The text shown for a value that is missing (null or undefined). */
export const MISSING = "–";

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `s` as text safe inside HTML element content and quoted attribute values. */
export const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);

const isMissing = (v) => v === null || v === undefined;

/** `v` with `digits` decimals, or MISSING. */
export const num = (v, digits = 2) => (isMissing(v) ? MISSING : Number(v).toFixed(digits));

/** A fraction (0.25) as a percentage with one decimal ("25.0%"), or MISSING. */
export const pct = (v) => (isMissing(v) ? MISSING : `${(100 * v).toFixed(1)}%`);

/** A fraction as a percentage number with one decimal (0.1234 -> 12.3), or null: what a chart plots. */
export const percentValue = (v) => (isMissing(v) ? null : Math.round(1000 * v) / 10);

const MIB = 1024 * 1024;

/** A byte count as "1.5 MB" from one MiB up, else whole KB (never "0 KB"); "" when unknown. */
export function fileSize(bytes) {
  if (isMissing(bytes)) return "";
  const mb = bytes / MIB;
  return mb >= 1 ? `${mb.toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
