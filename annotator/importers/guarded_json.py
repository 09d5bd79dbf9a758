"""Reading JSON files that come from outside with a nesting limit and bounded memory.

ijson's C parser keeps the dotted path of the current value for every event, so a file nested
100,000 levels deep costs memory quadratic in its depth (a 200 KB file gets the process killed),
and a single huge value is built whole before anyone can look at it. ``GuardedReader`` wraps the
file the parser reads and checks every chunk *before* the parser sees it, with a vectorised scan
of its structural bytes (quotes, backslashes, brackets):

* nesting deeper than ``max_depth`` is refused;
* a block of ``MAX_TOKEN_BYTES`` bytes without a structural byte (a long number, literal, string or
  stretch of blanks) is refused;
* one top-level item (a sample) with more than ``max_item_marks`` structural bytes, or spanning more
  than ``MAX_ITEM_BYTES``, is refused (an H3WB sample has about 1,400 and 19 kB).

So what the parser builds at a time is bounded, whatever the file holds. The scan tracks string
and escape state across chunks, so brackets inside strings never nest. It costs about 2 ns per
byte (one ``bytes.translate`` pass and numpy on the structural bytes alone, about 7% of an H3WB
file); only chunks holding a backslash take a slower exact path. Every H3WB file is an object of
samples nested 4 deep (file -> sample -> keypoints_3d -> joint), far inside the limits.
"""

from __future__ import annotations

import numpy as np

#: Deepest nesting accepted: H3WB files are 4 deep (file, sample, keypoint block, joint).
MAX_DEPTH = 8
#: Most structural bytes (quotes, brackets, backslashes) in one top-level item: a sample has about 1,400.
MAX_ITEM_MARKS = 1 << 16
#: Bytes one item may span (counted from the chunk after its last anchor, so up to a chunk more is let through).
MAX_ITEM_BYTES = 4 * 1024 * 1024
#: A block this long without a structural byte is refused: a number, literal, blanks or a string without quotes.
MAX_TOKEN_BYTES = 64 * 1024
#: Bytes the parser asks for at a time (the scan's chunk).
CHUNK_BYTES = 1 << 20

_STRUCTURAL = b'"\\{}[]'
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
# chunk.translate(_MARKS) -> 1 at structural bytes, 0 elsewhere; chunk.translate(None, _OTHERS) -> structural only.
_MARKS = bytes(1 if b in _STRUCTURAL else 0 for b in range(256))
_OTHERS = bytes(b for b in range(256) if b not in _STRUCTURAL)
# marks.translate(_DELTA) -> the bracket steps as int8 bytes: +1 opening, -1 (0xFF) closing, 0 otherwise.
_DELTA = bytes(1 if chr(b) in "{[" else 0xFF if chr(b) in "}]" else 0 for b in range(256))


class JsonLimitError(ValueError):
    """The file breaks one of the limits; the message says which and where."""


class GuardedReader:
    """A binary file wrapper whose ``read`` refuses, before returning them, bytes that break the limits."""

    def __init__(self, fh, *, max_depth: int = MAX_DEPTH, max_item_marks: int = MAX_ITEM_MARKS,
                 on_read=None) -> None:  # fmt: skip
        self._fh = fh
        self.max_depth = max_depth
        self.max_item_marks = max_item_marks
        self._on_read = on_read
        self.offset = 0  # bytes scanned so far
        self._depth = 0
        self._in_string = False
        self._escape = False  # the previous chunk ended on an odd run of backslashes inside a string
        self._run = 0  # length of the run of plain bytes that ended the previous chunk
        self._since_anchor = 0  # structural bytes since the last one outside strings at depth <= 1
        self._bytes_since_anchor = 0  # bytes of the chunks read since the one that held the last anchor
        self._long_run = bytes(max_item_marks + 1)  # that many structural bytes without an anchor

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # a probe (ijson asks read(0) to learn the type)
        chunk = self._fh.read(size if size > 0 else CHUNK_BYTES)
        if chunk:
            self._scan(chunk)
            self.offset += len(chunk)
        if self._on_read is not None:
            self._on_read(len(chunk))
        return chunk

    def close(self) -> None:
        self._fh.close()

    def _fail(self, what: str) -> None:
        raise JsonLimitError(f"{what} (within bytes {self.offset}-{self.offset + CHUNK_BYTES})")

    def _scan(self, chunk: bytes) -> None:
        # The structural bytes alone, block by block: a block without any means a run of plain bytes (a number,
        # a literal, blanks, a string without quotes or brackets) at least that long.
        parts = []
        for start in range(0, len(chunk), MAX_TOKEN_BYTES):
            part = chunk[start : start + MAX_TOKEN_BYTES].translate(None, _OTHERS)
            self._run = 0 if part else self._run + min(MAX_TOKEN_BYTES, len(chunk) - start)
            if self._run >= MAX_TOKEN_BYTES:
                self._fail(f"a number, literal, string or run of blanks of {MAX_TOKEN_BYTES} bytes or more")
            parts.append(part)
        marks = b"".join(parts)
        if not marks:
            self._count_item_bytes(len(chunk), anchored=False)
            return
        kinds = np.frombuffer(marks, dtype=np.uint8)
        if self._escape or _BACKSLASH in marks:
            quotes = self._real_quotes(chunk, kinds).view(np.uint8)
        else:
            quotes = (kinds == _QUOTE).view(np.uint8)
        # String state at every structural byte: the parity of the real quotes before it (xor-accumulated).
        parity = np.bitwise_xor.accumulate(quotes)
        inside = parity ^ quotes  # 1 inside a string (its closing quote included), else 0
        if self._in_string:
            inside ^= 1
        # Bracket steps (+1 / -1 as int8 bytes), kept only outside strings: AND with 0xFF outside, 0x00 inside.
        delta = np.frombuffer(marks.translate(_DELTA), dtype=np.uint8) & (inside - np.uint8(1))
        depth = np.cumsum(delta.view(np.int8), dtype=np.int32)
        depth += self._depth
        if int(depth.max()) > self.max_depth:
            self._fail(f"nested deeper than {self.max_depth} levels")
        # Items: the structural bytes between two anchors (outside strings, at depth <= 1 after them).
        anchors = ((depth <= 1) & (inside == 0)).view(np.uint8).tobytes()
        first = anchors.find(1)
        self._count_item_bytes(len(chunk), anchored=first >= 0)
        if first < 0:
            self._since_anchor += len(anchors)
        else:
            if self._since_anchor + first > self.max_item_marks or self._long_run in anchors:
                self._fail(f"one item with more than {self.max_item_marks} structural characters")
            self._since_anchor = len(anchors) - 1 - anchors.rfind(1)
        if self._since_anchor > self.max_item_marks:
            self._fail(f"one item with more than {self.max_item_marks} structural characters")
        self._depth = int(depth[-1])
        self._in_string = bool(inside[-1] ^ quotes[-1])

    def _count_item_bytes(self, size: int, *, anchored: bool) -> None:
        # Whole chunks without an anchor count; the chunk that ends the item is checked with what came before it.
        if self._bytes_since_anchor + (0 if anchored else size) > MAX_ITEM_BYTES:
            self._fail(f"one item larger than {MAX_ITEM_BYTES // (1024 * 1024)} MB")
        self._bytes_since_anchor = 0 if anchored else self._bytes_since_anchor + size

    def _real_quotes(self, chunk: bytes, kinds: np.ndarray) -> np.ndarray:
        """Which structural bytes are unescaped quotes: a walk in byte order (chunks with backslashes only)."""
        pos = np.flatnonzero(np.frombuffer(chunk.translate(_MARKS), dtype=np.uint8))
        real = np.zeros(len(kinds), dtype=bool)
        in_string = self._in_string
        escape = self._escape
        previous = -1 if escape else -2  # a carried escape applies to the chunk's first byte
        run = 1 if escape else 0
        for n in range(len(pos)):
            p, kind = int(pos[n]), int(kinds[n])
            if escape and p != previous + 1:
                escape, run = False, 0  # the escaped byte was an ordinary character
            if kind == _BACKSLASH:
                # Outside strings a backslash is invalid JSON: the parser stops there, so the scan past it is moot.
                if in_string:
                    run = run + 1 if (p == previous + 1 and run) else 1
                    escape = run % 2 == 1
            else:
                if kind == _QUOTE and not escape:
                    real[n] = True
                    in_string = not in_string
                escape, run = False, 0
            previous = p
        # An odd run of backslashes ending the chunk escapes the first byte of the next one.
        self._escape = bool(escape and previous == len(chunk) - 1)
        return real
