"""Loading ``.npz`` files from outside without running their code and with bounded memory.

The H3WB npz files (``h3wb_train.npz``, ``task1_test_3d.npz``, ...) hold nested dicts pickled inside
object arrays, and ``np.load(allow_pickle=True)`` unpickles them with plain pickle, which runs any
code a file names. Here every member is read from the zip with its size capped (a zip bomb is
refused before it is inflated), plain arrays through numpy's header parser, and object arrays
through ``RestrictedUnpickler``, which admits only what numpy's own pickles of arrays, dtypes and
scalars need plus builtin containers; anything else (``os.system``, ``builtins.eval``, ...) is
refused with the name it asked for. The result is then walked iteratively with a nesting limit.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

try:
    from numpy._core.multiarray import scalar as _numpy_scalar
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import scalar as _numpy_scalar

#: Most bytes one member may inflate to, and most inflation relative to its compressed size.
MAX_MEMBER_BYTES = 8 * 1024**3
MAX_INFLATION = 200
#: Members (arrays) per file and nesting depth of the unpickled objects (H3WB: dict -> subject -> action ->
#: camera -> field, 5 levels).
MAX_MEMBERS = 64
MAX_DEPTH = 8
#: Most objects (containers, arrays, scalars) in one file's unpickled members.
MAX_OBJECTS = 10_000_000


class NpzError(ValueError):
    """The file is not a loadable npz, or breaks a limit; the message says which member and why."""


def _reconstruct(subtype, shape, dtype):
    # numpy pickles every array as _reconstruct(ndarray, (0,), b"b") and then fills it from its state: a
    # non-empty shape here would allocate memory the file never paid for.
    if subtype is not np.ndarray or tuple(np.atleast_1d(shape)) != (0,):
        raise NpzError(f"refused array reconstruction {getattr(subtype, '__name__', subtype)!r} of shape {shape!r}")
    return np.ndarray.__new__(np.ndarray, (0,), dtype)


def _scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise NpzError("refused an object scalar")
    return _numpy_scalar(dtype, data) if data is not None else _numpy_scalar(dtype)


def _latin1(text, encoding="latin1"):
    # Protocol-2 pickles spell bytes as _codecs.encode(str, "latin1").
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise NpzError(f"refused _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _dtype(spec, align=False, copy=True):
    return np.dtype(spec, align, copy)


#: Every global a pickle may name, as numpy 1.x and 2.x write them, mapped to a checked stand-in.
ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    **{(m, "_reconstruct"): _reconstruct for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "scalar"): _scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1,
    ("collections", "OrderedDict"): dict,
    **{("numpy.dtypes", name): _dtype for name in dir(np.dtypes) if name.endswith("DType")},
}


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader that resolves only ``ALLOWED_GLOBALS``; any other global is an NpzError naming it."""

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise NpzError(f"refused to load {module}.{name}: the file asks for code, not data") from None


class _Capped(io.RawIOBase):
    """A stream that fails once more than ``limit`` bytes were read from it."""

    def __init__(self, fh, limit: int, what: str) -> None:
        self._fh = fh
        self._left = limit
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._fh.read(min(len(buffer), self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise NpzError(f"{self._what} inflates beyond its limit")
        buffer[: len(data)] = data
        return len(data)


def _check_tree(name: str, value) -> None:
    """Walk ``value`` without recursion: nesting at most MAX_DEPTH, at most MAX_OBJECTS objects, only data types."""
    stack = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_OBJECTS:
            raise NpzError(f"member {name!r} holds more than {MAX_OBJECTS} objects")
        if depth > MAX_DEPTH:
            raise NpzError(f"member {name!r} is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, np.ndarray) and item.dtype.hasobject:
            stack.extend((v, depth + 1) for v in item.ravel().tolist())
        elif not isinstance(item, (str, bytes, int, float, bool, type(None), np.ndarray, np.generic)):
            raise NpzError(f"member {name!r} holds a {type(item).__name__}, which is not data")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    limit = min(MAX_MEMBER_BYTES, max(1 << 20, info.compress_size * MAX_INFLATION))
    if info.file_size > limit:
        raise NpzError(f"member {info.filename!r} would inflate to {info.file_size} bytes; the limit is {limit}")
    with archive.open(info) as raw:
        fh = io.BufferedReader(_Capped(raw, limit, f"member {info.filename!r}"), 1 << 20)
        version = npy_format.read_magic(fh)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise NpzError(f"member {info.filename!r} has an unknown .npy version {version}")
        read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
        shape, fortran, dtype = read_header(fh, max_header_size=10_000)
        if dtype.hasobject:
            if shape != () and int(np.prod(shape)) > MAX_OBJECTS:
                raise NpzError(f"member {info.filename!r} claims {shape} objects")
            try:
                value = RestrictedUnpickler(fh, encoding="latin1").load()
            except NpzError:
                raise
            except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise NpzError(f"member {info.filename!r} is not a readable object array: {exc}") from None
            if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
                raise NpzError(f"member {info.filename!r} does not hold the array its header announces")
            return value
        count = int(np.prod(shape, dtype=np.int64))
        if count * dtype.itemsize > limit:
            raise NpzError(f"member {info.filename!r} announces {count * dtype.itemsize} bytes; the limit is {limit}")
        data = fh.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise NpzError(f"member {info.filename!r} is truncated")
        array = np.frombuffer(data, dtype=dtype).copy()
        return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every member of the npz at ``path`` (``name.npy`` -> ``name``), read safely; NpzError says what is wrong."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NpzError(f"{path.name} is not an npz (zip) file: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise NpzError(f"{path.name} has {len(infos)} members; the limit is {MAX_MEMBERS}")
        out: dict[str, np.ndarray] = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            try:
                value = _read_member(archive, info)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise NpzError(f"member {info.filename!r} cannot be read: {exc}") from None
            except ValueError as exc:
                if isinstance(exc, NpzError):
                    raise NpzError(f"{path.name}: {exc}") from None
                raise NpzError(f"{path.name}: member {info.filename!r}: {exc}") from None
            _check_tree(name, value)
            out[name] = value
    return out


def item(members: dict[str, np.ndarray], name: str, path: Path):
    """The object a 0-d object member holds (``data['train_data'].item()``), or NpzError."""
    if name not in members:
        raise NpzError(f"{path.name} has no {name!r} member (it has {', '.join(sorted(members)) or 'none'})")
    value = members[name]
    if value.shape != () or not value.dtype.hasobject:
        raise NpzError(f"{path.name}: member {name!r} must be one pickled object, got an array of shape {value.shape}")
    return value.item()
