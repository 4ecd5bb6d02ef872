"""The lint result cache, in ``.shapecheck_cache/`` (as ruff and mypy keep theirs).

An entry is keyed by the tool version, the effective configuration, the
file's path and the hash of its text; it stores the file's findings (before
suppressions and configuration are applied) and the hash of every file the
check read through ``use``, transitively (``None`` for one that could not be
read). An entry is a hit only if every one of those files still has that
hash, so a change anywhere in the ``use`` closure re-checks the file. A hit
needs neither the parser nor sympy. The folder has its own ``.gitignore``;
deleting it is always safe. Nothing here fails a run: a cache that cannot be
read or written is ignored.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Optional

FOLDER = ".shapecheck_cache"
FORMAT = 1


def text_hash(text: Optional[str]) -> Optional[str]:
    return None if text is None else hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ResultCache:
    """Cached findings of spec files under ``root`` (the folder that holds ``.shapecheck_cache/``)."""

    def __init__(self, root: str, version: str):
        self.folder = os.path.join(root, FOLDER, f"v{FORMAT}-{version}")
        self.top = os.path.join(root, FOLDER)
        self.version = version
        self.hits = self.misses = 0

    def key(self, path: str, text_sha: str, config: list) -> str:
        data = json.dumps([FORMAT, self.version, os.path.abspath(path), path, text_sha, config])
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str, read) -> Optional[tuple]:
        """``(findings, deps)`` if the entry exists and every dependency still has its
        recorded hash; ``read(path)`` returns a file's text or ``None``."""
        try:
            with open(os.path.join(self.folder, key[:2], key + ".json"), encoding="utf-8") as f:
                entry = json.load(f)
            deps = entry["deps"]
            for dep, sha in deps.items():
                if text_hash(read(dep)) != sha:
                    self.misses += 1
                    return None
            self.hits += 1
            return entry["findings"], deps
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None

    def put(self, key: str, findings: list, deps: dict) -> None:
        sub = os.path.join(self.folder, key[:2])
        try:
            if not os.path.isdir(self.top):
                os.makedirs(self.top, exist_ok=True)
                with open(os.path.join(self.top, ".gitignore"), "w", encoding="utf-8") as f:
                    f.write("# created by shapecheck: the lint result cache, safe to delete\n*\n")
                with open(os.path.join(self.top, "CACHEDIR.TAG"), "w", encoding="utf-8") as f:
                    f.write("Signature: 8a477f597d28d172789f06886806bc55\n"
                            "# This file is a cache directory tag created by shapecheck.\n")
            os.makedirs(sub, exist_ok=True)
            tmp = os.path.join(sub, f".{key}.{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"findings": findings, "deps": deps}, f)
            os.replace(tmp, os.path.join(sub, key + ".json"))
        except OSError:
            pass
