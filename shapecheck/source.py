"""Reading spec files: one reader for every interpreter, so that both see the
same text (bytes decoded as UTF-8, no newline translation, BOM dropped)."""
from __future__ import annotations


def read_text(path: str) -> str:
    """The text of ``path``; raises OSError or UnicodeDecodeError (also for a
    binary file, recognised by a NUL byte). Line ends are kept as they are: the
    parser counts lines by ``\\n`` only, and so do the caret snippets."""
    with open(path, "rb") as f:
        data = f.read()
    if b"\x00" in data[:8192]:
        raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1,
                                 "binary file (NUL byte)")
    text = data.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text
