"""``python manage.py crosscheck_report``: a study's cross-check report as JSON, Markdown or a standalone HTML page.

The parts, their labels and the published sigmas' name come from the report's own layout data (``report["layout"]``,
the dataset's layout), so a COCO-17 study prints its two parts and no H3WB figures it cannot be compared with.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import NotFoundError
from annotator.selectors.studies import study_get, study_report

FORMATS = ("json", "md", "html")


def _labels(layout: dict) -> dict[str, str]:
    """The report's metric parts in order -> their labels (``Layout.metric_json``)."""
    return {p["name"]: p["label"] for p in layout["metric_parts"]}


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table_rows(report: dict) -> list[list[str]]:
    """The H3WB table, with the published and (when known) the true figures beside the measured ones."""
    truth = report.get("ground_truth")
    rows = []
    for part, label in _labels(report["layout"]).items():
        row, pub = report["parts"][part], report["published"].get(part)
        cells = [label, _num(row["mean_2d_px"]), _num(row["mean_3d_mm"]), _num(row["median_3d_mm"]),
                 _num(row["p90_3d_mm"]), str(row["n_keypoints"]), _num(row["fraction_corrected"], 3),
                 f"{pub['mean_2d_px']:.2f} / {pub['mean_3d_mm']:.2f}" if pub else "–"]  # fmt: skip
        if truth:
            g = truth[part]
            cells += [_num(g["mean_3d_mm"]), _num(g["measured_over_true"], 3), _num(g["residual_3d_mm"])]
        rows.append(cells)
    return rows


def _header(report: dict) -> list[str]:
    head = ["part", "mean 2D px", "mean 3D mm", "median 3D mm", "p90 3D mm", "keypoints", "corrected",
            "H3WB 2D px / 3D mm"]  # fmt: skip
    if report.get("ground_truth"):
        head += ["true 3D mm", "measured / true", "residual 3D mm"]
    return head


def report_markdown(report: dict) -> str:
    s = report["study"]
    lines = [
        f"# Cross-check study {s['name']} (#{s['id']})",
        "",
        f"Dataset {s['dataset']} ({', '.join(s['subjects'])}), mode {s['mode']}, {s['n_items']} items "
        f"+ {s['n_honeypots']} honeypots, seed {s['seed']}, {s['per_item']} annotator(s) per item; "
        f"{report['n_tasks']} finished tasks, {report['n_views']} corrected views.",
        "",
    ]
    head = _header(report)
    lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in _table_rows(report)]
    if report.get("published_note"):
        lines += ["", report["published_note"] + "."]
    lines += ["", "## Per camera", "", "| camera | views | mean 2D px | mean 3D mm |", "|---|---|---|---|"]
    lines += [f"| {c['camera']} | {c['n_views']} | {_num(c['mean_2d_px'])} | {_num(c['mean_3d_mm'])} |"
              for c in report["cameras"]]  # fmt: skip
    lines += ["", "## Per annotator", "", "| annotator | tasks | mean 3D mm | mean 2D px | corrected |",
              "|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {a['annotator']} | {a['n_tasks']} | {_num(a['mean_3d_mm'])} | {_num(a['mean_2d_px'])} | "
              f"{_num(a['fraction_corrected'], 3)} |" for a in report["annotators"]]  # fmt: skip
    if report.get("agreement"):
        ag = report["agreement"]
        lines += [
            "",
            f"## Inter-annotator agreement ({ag['n_items']} items)",
            "",
            "| part | spread 2D px | spread 3D mm | derived sigma | published sigma |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {_labels(report['layout'])[p]} | {_num(v['spread_2d_px'])} | {_num(v['spread_3d_mm'])} | "
            f"{_num(v['derived_sigma'], 4)} | {_num(v['published_sigma'], 4)} |"
            for p, v in ag["parts"].items()
        ]
    lines += instrument_markdown(report.get("instrument"), report["layout"])
    lines += fbi_markdown(report.get("fbi"))
    return "\n".join(lines) + "\n"


def _grid_label(value: float) -> str:
    return f"{value:g}"


def instrument_markdown(ins: dict | None, layout: dict) -> list[str]:
    """What the study shows and cannot, its assumptions, the sensitivity table, the design's bias, calibration;
    parts and sigmas named as ``layout`` (the report's ``layout``) names them."""
    if not ins:
        return []
    labels, sigmas = _labels(layout), f"{layout['name']}'s sigmas"
    lines = ["", "## What this study shows and what it cannot", "", ins["limits"], "", "## Assumptions", ""]
    a = ins["assumptions"]
    if not a["simulated"]:
        lines.append("Corrected by people (no simulated annotator ran on this study).")
    for run in a["runs"]:
        params = ", ".join(f"{k} {v}" for k, v in run["params"].items())
        lines.append(f"- {run['label']}: {params}; seed {run['seed']}; {run['counts'].get('tasks_done', 0)} tasks, "
                     f"{run['counts'].get('moved', 0)} drags, {run['counts'].get('unseen_hidden', 0)} hidden and "
                     f"{run['counts'].get('unseen_other', 0)} otherwise unseen keypoints left alone")  # fmt: skip
    if a["simulated"]:
        model = a["models"]["perceiving"]
        lines += ["", f"Perceiving annotator: sees {model['sees']}; places at the {model['placement']} "
                      f"({model['sigma_reference']}); drags {model['drags']}. Ground-truth visibility known for "
                      f"{a['views_with_visibility']} of {a['views']} views."]  # fmt: skip
    sens = ins.get("sensitivity")
    if sens:
        lines += [
            "",
            f"## Sensitivity to the assumed annotator ({sens['n_tasks']} tasks with ground truth, replayed)",
            "",
            "Measured / true 3D error per part, by threshold (screen px, rows) and placement spread (x "
            f"{sigmas}, columns); 1 = the study measures the dataset's true error.",
            "",
        ]
        for part in sens["parts"]:
            head = ["threshold px \\ spread"] + [f"x{_grid_label(n)}" for n in sens["noise_scales"]]
            lines += [f"**{labels[part]}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for t, row in zip(sens["thresholds_px"], sens["parts"][part], strict=True):
                lines.append(f"| {_grid_label(t)} | " + " | ".join(_num(v, 3) for v in row) + " |")
            lines.append("")
        if sens.get("at_study"):
            at = sens["at_study"]
            lines.append(f"At this study's own annotator (threshold {at['threshold_px']:g} px, spread "
                         f"x{at['noise_scale']:g}): " + ", ".join(f"{labels[p]} {_num(v, 3)}"
                                                                   for p, v in at["parts"].items()) + ".")  # fmt: skip
    bias = ins["bias"]
    lines += ["", f"## Design bias ({bias['mode']} mode)", "", bias["note"], "",
              "| part | corrected in one view only | measured / true |", "|---|---|---|"]  # fmt: skip
    for part, row in bias["parts"].items():
        lines.append(f"| {labels[part]} | {_num(row['single_view_share'], 3)} | "
                     f"{_num(row.get('measured_over_true'), 3)} |")  # fmt: skip
    cal = ins.get("calibration")
    if cal:
        lines += ["", f"## Calibration ({cal['basis']}, {cal['n_tasks']} tasks)", "",
                  f"| annotator | reference | part | 3D error mm | drops | sigma | {layout['name']} sigma | ratio |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for row in cal["annotators"]:
            for part, v in row["parts"].items():
                lines.append(f"| {row['annotator']} | {', '.join(row['references'])} | {labels[part]} | "
                             f"{_num(v['error_3d_mm'])} | {v['n_drops']} | {_num(v['sigma'], 4)} | "
                             f"{_num(v['published_sigma'], 4)} | {_num(v['sigma_ratio'], 2)} |")  # fmt: skip
        lines += [""] + [f"- **Warning**: {w['message']}" for w in cal["warnings"]]
    return lines


REFERENCE_LABELS = {"dataset": "dataset skeleton", "corrected": "corrected skeleton", "ground_truth": "ground truth"}


def _tilt_label(row: dict) -> str:
    return f"> {row['low']:g}" if row["high"] >= 90 else f"{row['low']:g}-{row['high']:g}"


def fbi_markdown(fbi: dict | None) -> list[str]:
    """The FBI section: people's error and skip rates per tilt bin against each skeleton, and the depth errors."""
    if not fbi:
        return []
    s = fbi["seconds"]
    lines = [
        "",
        f"## Forward/backward bone labels ({fbi['n_answers']} answers on {fbi['n_images']} images)",
        "",
        f"Median {s['per_image_median']:.1f} s per image, {s['per_answer_mean']:.1f} s per answer; skeleton labels "
        f"unknown below {fbi['unknown_tilt_deg']:g} degrees.",
        "",
        "| against | tilt (deg) | answers | error rate | skip rate |",
        "|---|---|---|---|---|",
    ]
    for source, ref in fbi["references"].items():
        for row in (ref or {}).get("bins", []):
            lines.append(f"| {REFERENCE_LABELS[source]} | {_tilt_label(row)} | {row['n']} | "
                         f"{_num(row['error_rate'], 3)} | {_num(row['skip_rate'], 3)} |")  # fmt: skip
    check = fbi["depth_error_check"]
    confirmed = f" ({check['dataset_wrong']} of {check['n']} confirmed by ground truth)." if check else "."
    n_frames = len(fbi["depth_error_frames"])
    lines += ["", f"{fbi['n_probable_depth_errors']} probable depth errors on {n_frames} frames{confirmed}", "",
              flag_policy_text(fbi), ""]  # fmt: skip
    if fbi["probable_depth_errors"]:
        lines += ["| frame | camera | bone | tilt (deg) | length mm | people against / with | dataset | ground truth |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        lines += [f"| {e['frame_label']} | {e['camera']} | {e['bone']} | {e['tilt_deg']:.1f} | {e['length_mm']:.0f} | "
                  f"{e['n_against']} / {e['n_with']} ({e['human']}) | {e['dataset']} | {e['ground_truth'] or '–'} |"
                  for e in fbi["probable_depth_errors"]]  # fmt: skip
    return lines


def flag_policy_text(fbi: dict) -> str:
    """What the list of probable depth errors holds and how often it is wrong, in one sentence or two."""
    p, cal = fbi["policy"], fbi["calibration"]
    text = (f"A bone is listed when at least {p['min_agreeing']} people contradict the dataset skeleton and nobody "
            f"confirms it, among {' and '.join(p['groups'])} bones of {p['length_mm'][0]:g}-{p['length_mm'][1]:g} mm "
            f"tilted {p['tilt_deg'][0]:g}-{p['tilt_deg'][1]:g} degrees.")  # fmt: skip
    if fbi.get("policy_note"):
        text += f" Note: {fbi['policy_note']}."
    if cal["applies"]:
        text += (f" Expected false alarms: {100 * cal['expected_false_alarm_rate']:.0f}% of the list (precision "
                 f"{cal['precision'][0]:.2f} ± {cal['precision'][1]:.2f} over {cal['seeds']} unseen rigs, "
                 f"{cal['labellers_per_frame']} labellers per frame; `{cal['command']}`).")  # fmt: skip
    if fbi["max_labellers"] < p["min_agreeing"]:
        text += (f" These answers have at most {fbi['max_labellers']} person per bone: nothing can be listed until "
                 f"{p['min_agreeing']} people label the same frames.")  # fmt: skip
    return text


def report_html(report: dict) -> str:
    """A standalone page (no scripts): the tables and a bar histogram per part drawn with CSS."""
    esc = html.escape
    s = report["study"]
    head = "".join(f"<th>{esc(h)}</th>" for h in _header(report))
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in _table_rows(report))
    hist = report["histograms"]
    edges = hist["bin_edges_mm"]
    charts = []
    for part, label in _labels(report["layout"]).items():
        counts = hist["counts"][part]
        top = max(counts) or 1
        bars = "".join(
            f'<div class="bar" style="height:{100 * c / top:.1f}%" title="{edges[i]:g}-{edges[i + 1]:g} mm: {c}">'
            "</div>" for i, c in enumerate(counts)
        )  # fmt: skip
        charts.append(
            f"<figure><figcaption>{label}: 3D error, {edges[1] - edges[0]:g} mm bins to {edges[-1]:g} mm "
            f"(+{hist['overflow'][part]} beyond)</figcaption><div class='hist'>{bars}</div></figure>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cross-check {esc(s["name"])}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2rem; color: #1d2330; }}
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #dfe3ea; padding: .3rem .6rem; text-align: right; }}
th {{ color: #6b7385; font-weight: 600; }} td:first-child, th:first-child {{ text-align: left; }}
.hist {{ display: flex; align-items: flex-end; height: 120px; gap: 1px; width: 480px; border-bottom: 1px solid #999; }}
.bar {{ flex: 1; background: #2f6fde; }} figure {{ display: inline-block; margin: 1rem 2rem 1rem 0; }}
</style></head><body>
<h1>Cross-check study {esc(s["name"])} (#{s["id"]})</h1>
<p>Dataset {esc(s["dataset"])}, mode {esc(s["mode"])}, {s["n_items"]} items, {report["n_tasks"]} finished tasks.</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
{"".join(charts)}
{_instrument_html(report.get("instrument"), report["layout"])}
{_fbi_html(report.get("fbi"))}
</body></html>
"""


def _instrument_html(ins: dict | None, layout: dict) -> str:
    """The instrument section as HTML: the Markdown's paragraphs and tables, converted line by line."""
    if not ins:
        return ""
    esc = html.escape
    out, table = [], []

    def flush() -> None:
        if table:
            rows = [r for r in table if not set(r) <= set("|-")]
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{esc(c)}</th>" for c in cells[0])
            body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            table.clear()

    for line in instrument_markdown(ins, layout):
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{esc(line[3:])}</h2>")
        elif line.startswith("**") and line.endswith("**"):
            out.append(f"<h3>{esc(line[2:-2])}</h3>")
        elif line.startswith("- "):
            out.append(f"<p class='item'>{esc(line[2:].replace('**', ''))}</p>")
        elif line:
            out.append(f"<p>{esc(line)}</p>")
    flush()
    return "".join(out)


def _fbi_html(fbi: dict | None) -> str:
    if not fbi:
        return ""
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(REFERENCE_LABELS[source])}</td><td>{esc(_tilt_label(r))}</td><td>{r['n']}</td>"
        f"<td>{_num(r['error_rate'], 3)}</td><td>{_num(r['skip_rate'], 3)}</td></tr>"
        for source, ref in fbi["references"].items() for r in (ref or {}).get("bins", [])
    )  # fmt: skip
    errors = "".join(
        f"<tr><td>{esc(e['frame_label'])}</td><td>{esc(e['camera'])}</td><td>{esc(e['bone'])}</td>"
        f"<td>{e['tilt_deg']:.1f}</td><td>{e['n_against']} / {e['n_with']} ({esc(e['human'])})</td>"
        f"<td>{esc(e['dataset'])}</td><td>{esc(e['ground_truth'] or '–')}</td></tr>"
        for e in fbi["probable_depth_errors"]
    )  # fmt: skip
    return (
        f"<h2>Forward/backward bone labels ({fbi['n_answers']} answers)</h2><table><thead><tr><th>against</th>"
        f"<th>tilt (deg)</th><th>answers</th><th>error rate</th><th>skip rate</th></tr></thead><tbody>{rows}</tbody>"
        f"</table><h3>{fbi['n_probable_depth_errors']} probable depth errors</h3><p>{esc(flag_policy_text(fbi))}</p>"
        f"<table><thead><tr><th>frame</th>"
        f"<th>camera</th><th>bone</th><th>tilt</th><th>people against / with</th><th>dataset</th>"
        f"<th>ground truth</th></tr></thead>"
        f"<tbody>{errors}</tbody></table>"
    )


class Command(BaseCommand):
    help = "Write the cross-check report of a study (its submitted and accepted tasks) as json, md or html."

    def add_arguments(self, parser):
        parser.add_argument("--study", type=int, required=True, help="study id")
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        try:
            study = study_get(study_id=options["study"])
        except NotFoundError as exc:
            raise CommandError(exc.message) from None
        report = study_report(study=study)
        fmt = options["format"]
        text = {"json": lambda r: json.dumps(r, indent=1) + "\n", "md": report_markdown, "html": report_html}[fmt](
            report
        )
        if options["out"]:
            Path(options["out"]).write_text(text)
            self.stdout.write(f"wrote the {fmt} report of study {study.pk} to {options['out']}")
        else:
            self.stdout.write(text, ending="")
