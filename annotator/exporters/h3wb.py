"""H3WB release layout: one JSON object keyed ``"0"``, ``"1"``, ... with ``image_path``, ``bbox``,
``keypoints_2d`` and ``keypoints_3d`` per sample, so the H3WB loaders (and ``import_h3wb``) read it unchanged.

The 4 views of an instant are consecutive samples; ``keypoints_3d`` is ``R_cam @ X_world`` in mm
(camera orientation, no translation), ``keypoints_2d`` pixels in the dataset's 2D convention. Keys are
the source sample ids (so a subset export still points at the release's own samples), or 0, 1, ...
when the export renumbers. Numbers have ``EXPORT_DECIMALS`` decimals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from annotator import h3wb_format
from annotator.exporters.samples import ExportSample
from annotator.exporters.writer import JsonItems

FORMAT = "h3wb"


def render(sample: ExportSample) -> str:
    """The JSON text of one sample (``"<key>": {...}``); pure, so it can run in a worker process."""
    x0, y0, x1, y1 = sample.bbox
    fields = [f'"image_path": {json.dumps(sample.image_path)}'] if sample.image_path else []
    fields.append(f'"bbox": {{"x_min": {int(x0)}, "y_min": {int(y0)}, "x_max": {int(x1)}, "y_max": {int(y1)}}}')
    fields.append(f'"keypoints_2d": {h3wb_format.points_2d_text(sample.points_2d)}')
    fields.append(f'"keypoints_3d": {h3wb_format.points_3d_text(sample.points_3d)}')
    return f'"{sample.key}": {{{", ".join(fields)}}}'


class H3WBWriter:
    """Streams rendered samples into an open text file as one H3WB JSON object."""

    render = staticmethod(render)

    def __init__(self, fh: TextIO, header: dict, directory: Path) -> None:
        self.fh = fh
        fh.write("{")
        self.items = JsonItems(fh)

    def write(self, text: str) -> None:
        self.items.add(text)

    def close(self) -> None:
        self.items.end()
        self.fh.write("}\n")

    def abort(self) -> None:
        pass
