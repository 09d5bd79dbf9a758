"""A picture of what the pretrained model found: keypoints and links over the photograph, face points numbered.

Used to check the face mapping by eye (``python -m ml_services.pretrained.figure IMAGE OUT.png``) and by
the benchmark that writes docs/images/pretrained_astronaut.jpg. Colours and links are the layout's.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from annotator import keypoints


def draw(image: np.ndarray, points: np.ndarray, scale: int = 2, number_face: bool = True) -> Image.Image:
    """``image`` (H, W, 3) uint8 enlarged ``scale`` times, with ``points`` (J, 3) drawn where their score is > 0."""
    canvas = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.BICUBIC)
    pen = ImageDraw.Draw(canvas)
    ok = points[:, 2] > 0
    xy = (points[:, :2] + 0.5) * scale
    for link in keypoints.LINKS:
        if ok[link.a] and ok[link.b]:
            colour = keypoints.PART_COLORS.get(link.part, keypoints.PART_COLORS["connector"])
            pen.line([tuple(xy[link.a]), tuple(xy[link.b])], fill=colour, width=max(1, scale // 2))
    face = set(keypoints.PARTS["face"].tolist())
    for k in np.flatnonzero(ok):
        colour = keypoints.PART_COLORS[keypoints.PART_NAMES[keypoints.PART_OF[k]]]
        x, y = xy[k]
        r = scale
        pen.ellipse([x - r, y - r, x + r, y + r], fill=colour, outline="black")
        if number_face and k in face:
            pen.text((x + r, y - 3 * r), keypoints.NAMES[k].removeprefix("face-"), fill="yellow")
    return canvas


def overview_and_face(image: np.ndarray, points: np.ndarray, zoom: int = 4) -> Image.Image:
    """Two panels side by side: the whole image with the skeleton, and the face ``zoom`` times larger with
    its 68 points numbered (how the mesh-to-68 list was checked by eye)."""
    whole = draw(image, points, scale=1, number_face=False)
    face = points[keypoints.PARTS["face"]]
    ok = face[:, 2] > 0
    if not ok.any():
        return whole
    lo, hi = face[ok, :2].min(axis=0), face[ok, :2].max(axis=0)
    side = float((hi - lo).max()) * 1.3
    cx, cy = (lo + hi) / 2
    box = [int(round(v * zoom)) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)]
    closeup = draw(image, points, scale=zoom).crop(box).resize((whole.height, whole.height), Image.LANCZOS)
    out = Image.new("RGB", (whole.width + closeup.width, whole.height))
    out.paste(whole, (0, 0))
    out.paste(closeup, (whole.width, 0))
    return out


def main(argv: list[str] | None = None) -> int:
    from ml_services.images import load_rgb
    from ml_services.pretrained import detect_wholebody

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image")
    parser.add_argument("out")
    parser.add_argument("--scale", type=int, default=2)
    args = parser.parse_args(argv)
    image = load_rgb(args.image)
    overview_and_face(image, detect_wholebody(image), args.scale * 2).save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
