"""Running one ``.tflite`` network with ai-edge-litert: loaded once per process, one call at a time.

A LiteRT interpreter is not safe to call from two threads at once, and the web server answers
requests from several threads, so each network has a lock. ``ai_edge_litert`` is imported only when a
network is first used, so importing the tool never needs it.
"""

from __future__ import annotations

import os
import threading
from functools import cache

import numpy as np

from ml_services.pretrained.assets import MEDIAPIPE, asset_path

#: Interpreter threads per network (``DJANGO_PRETRAINED_THREADS``); the CPUs are shared with the web server.
THREADS_ENV = "DJANGO_PRETRAINED_THREADS"
DEFAULT_THREADS = 2


class Network:
    """One network: ``run(x)`` takes a (1, S, S, 3) float32 input and returns its outputs by name."""

    def __init__(self, file_name: str) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise FileNotFoundError(
                f"the LiteRT runtime (ai-edge-litert) is not installed: {exc}; run `make install`"
            ) from None
        path = asset_path(MEDIAPIPE, file_name)
        threads = int(os.environ.get(THREADS_ENV, DEFAULT_THREADS))
        self.name = file_name
        self._interpreter = Interpreter(model_path=str(path), num_threads=max(1, threads))
        self._interpreter.allocate_tensors()
        (self._input,) = self._interpreter.get_input_details()
        self._outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self.input_size = int(self._input["shape"][1])
        self._lock = threading.Lock()

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.shape != tuple(self._input["shape"]):
            raise ValueError(f"{self.name} takes {tuple(self._input['shape'])}, got {x.shape}")
        with self._lock:
            self._interpreter.set_tensor(self._input["index"], x)
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(i).copy() for name, i in self._outputs.items()}


@cache
def network(file_name: str) -> Network:
    """The network in ``file_name``, loaded once per process."""
    return Network(file_name)
