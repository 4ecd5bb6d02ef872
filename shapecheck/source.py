"""Reading spec files: one reader for every interpreter, so that both see the
same text (bytes decoded as UTF-8, no newline translation, BOM dropped), and
one description of a file that cannot be read, located where the problem is."""
from __future__ import annotations

import os


class UndecodableText(UnicodeDecodeError):
    """A file that is not UTF-8 text (or holds a NUL byte), with the 1-based
    line and column (in characters of the decodable prefix of that line) of
    the first offending byte."""

    def __init__(self, data: bytes, start: int, reason: str):
        super().__init__("utf-8", data, start, start + 1, reason)
        before = data[:start]
        self.line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        self.col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        self.byte = data[start]

    def describe(self) -> str:
        if self.byte == 0:
            return "a NUL byte here: not a text file"
        return f"not UTF-8 text: byte 0x{self.byte:02x} here ({self.reason})"


def decode(data: bytes) -> str:
    """Spec text from bytes; raises :class:`UndecodableText` at the first bad byte.

    >>> decode(b"\\xef\\xbb\\xbfdim a")
    'dim a'
    >>> try:
    ...     decode(b"dim a\\ndim b\\ndim c\\x00")
    ... except UndecodableText as e:
    ...     print(e.line, e.col, e.describe())
    3 6 a NUL byte here: not a text file
    >>> try:
    ...     decode("dim é\\n".encode() + b"dim caf\\xe9")
    ... except UndecodableText as e:
    ...     print(e.line, e.col, e.describe())
    2 8 not UTF-8 text: byte 0xe9 here (unexpected end of data)
    """
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if 0 <= nul < e.start:
            raise UndecodableText(data, nul, "NUL byte") from None
        raise UndecodableText(data, e.start, e.reason) from None
    if nul >= 0:
        raise UndecodableText(data, nul, "NUL byte")
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str) -> str:
    """The text of ``path``; raises OSError or :class:`UndecodableText` (a
    UnicodeDecodeError). Line ends are kept as they are: the parser counts
    lines by ``\\n`` only, and so do the caret snippets."""
    with open(path, "rb") as f:
        data = f.read()
    return decode(data)


def read_error(path: str, e: BaseException) -> tuple:
    """``(line, col, message)`` for an exception of :func:`read_text` on ``path``:
    where the problem is (1, 1 for a file that cannot be opened) and what it is.
    The one wording of every SC002 and of an unreadable `use` target (SC004).

    >>> read_error("a.shape", FileNotFoundError(2, "No such file or directory"))
    (1, 1, 'cannot read a.shape: no such file or directory')
    """
    if isinstance(e, UndecodableText):
        return e.line, e.col, f"cannot read {path}: {e.describe()}"
    if isinstance(e, UnicodeDecodeError):
        return 1, 1, f"cannot read {path}: not UTF-8 text (byte {e.start}: {e.reason})"
    if isinstance(e, IsADirectoryError) or os.path.isdir(path):
        return 1, 1, f"cannot read {path}: it is a folder"
    if isinstance(e, FileNotFoundError):
        return 1, 1, f"cannot read {path}: no such file or directory"
    if isinstance(e, PermissionError):
        return 1, 1, f"cannot read {path}: permission denied"
    return 1, 1, f"cannot read {path}: {(getattr(e, 'strerror', None) or str(e)).lower()}"
