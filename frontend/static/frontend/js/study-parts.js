// The metric parts a study report's tables and charts are drawn in, read from the layout data the report
// carries (`report.layout`: the dataset's layout, `Layout.metric_json`): their order, labels and colours, and
// the metric part of each keypoint. Nothing here knows a layout: a COCO-17 study has "all" and "body", a
// COCO-WholeBody one "all", "body", "face" and "hand", each in the colour the layout gives it.

/** A keypoint whose part has no metric part (never in a shipped layout): grey. */
export const UNKNOWN_COLOR = "#888888";
/** The overflow bar of a histogram (errors past its last edge). */
export const OVERFLOW_COLOR = "#9aa3b5";

/** The layout's metric parts in report order: [{name, label, color}]. */
export const metricParts = (layout) => layout.metric_parts;

/** Names of the metric parts, in order. */
export const partNames = (layout) => layout.metric_parts.map((p) => p.name);

/** The people's label of metric part `name` (the name itself when the layout does not know it). */
export function partLabel(layout, name) {
  return layout.metric_parts.find((p) => p.name === name)?.label ?? name;
}

/** A histogram's caption for metric part `name`, saying which anatomical parts it groups ("Body (with feet)",
 * "Hand (left hand and right hand)"), from the layout data alone. */
export function partCaption(layout, name) {
  if (name === "all") return "All keypoints";
  const label = partLabel(layout, name);
  const members = Object.keys(layout.part_metric).filter((p) => layout.part_metric[p] === name);
  const words = (ps) => ps.map((p) => p.replaceAll("_", " ")).join(" and ");
  if (members.length <= 1) return label;
  if (members.includes(name)) return `${label} (with ${words(members.filter((p) => p !== name))})`;
  return `${label} (${words(members)})`;
}

/** The chart colour of metric part `name`. */
export function partColor(layout, name) {
  return layout.metric_parts.find((p) => p.name === name)?.color ?? UNKNOWN_COLOR;
}

/** One colour per keypoint: that of the metric part of its anatomical part (`partOf`: one part name each). */
export function keypointColors(layout, partOf) {
  return partOf.map((p) => (p in layout.part_metric ? partColor(layout, layout.part_metric[p]) : UNKNOWN_COLOR));
}

/** Bar colours of a histogram of metric part `name`: bins inside the band [lo, hi) full, others faded, then the
 * overflow bar. `edges` are the bin edges (one more than the bins). */
export function histogramColors(layout, name, edges, [lo, hi]) {
  const color = partColor(layout, name);
  return edges.slice(0, -1).map((e) => (e >= lo && e < hi ? color : `${color}80`)).concat([OVERFLOW_COLOR]);
}

/** `<option>`s of the metric parts, for a part filter. */
export function partOptions(layout) {
  return layout.metric_parts.map((p) => `<option value="${p.name}">${p.label}</option>`).join("");
}
