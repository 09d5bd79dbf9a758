"""``python manage.py crosscheck_report``: a study's cross-check report as JSON, Markdown or a standalone HTML page."""

from __future__ import annotations

import html
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotator.exceptions import NotFoundError
from annotator.selectors.studies import study_get, study_report

FORMATS = ("json", "md", "html")
PART_LABELS = {"all": "All", "body": "Body", "face": "Face", "hand": "Hand"}


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table_rows(report: dict) -> list[list[str]]:
    """The H3WB table, with the published and (when known) the true figures beside the measured ones."""
    truth = report.get("ground_truth")
    rows = []
    for part, label in PART_LABELS.items():
        row, pub = report["parts"][part], report["published"][part]
        cells = [label, _num(row["mean_2d_px"]), _num(row["mean_3d_mm"]), _num(row["median_3d_mm"]),
                 _num(row["p90_3d_mm"]), str(row["n_keypoints"]), _num(row["fraction_corrected"], 3),
                 f"{pub['mean_2d_px']:.2f} / {pub['mean_3d_mm']:.2f}"]  # fmt: skip
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
            f"| {PART_LABELS[p]} | {_num(v['spread_2d_px'])} | {_num(v['spread_3d_mm'])} | "
            f"{_num(v['derived_sigma'], 4)} | {_num(v['published_sigma'], 4)} |"
            for p, v in ag["parts"].items()
        ]
    return "\n".join(lines) + "\n"


def report_html(report: dict) -> str:
    """A standalone page (no scripts): the tables and a bar histogram per part drawn with CSS."""
    esc = html.escape
    s = report["study"]
    head = "".join(f"<th>{esc(h)}</th>" for h in _header(report))
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in _table_rows(report))
    hist = report["histograms"]
    edges = hist["bin_edges_mm"]
    charts = []
    for part, label in PART_LABELS.items():
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
</body></html>
"""


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
