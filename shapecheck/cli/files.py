"""Which files one `shapecheck lint` run checks.

Every path the user named is accounted for: a spec file, a folder walked for
``*.shape`` files (skipping the ``exclude``/``extend-exclude`` globs of the
configuration in force there), or a *problem* (a missing path, a folder with
no spec) that the run reports as SC002. The specs that ``use`` a named file,
directly or through other files, under the configured ``paths`` are added
(*dependents*), so that editing a shared file re-checks its users. Nothing
here parses a spec: ``use`` lines are found with a regular expression.
"""
from __future__ import annotations

import os
import re

SPEC_SUFFIX = ".shape"
#: a `use "path"` statement (the grammar allows it only at the top level of a file)
USE_LINE = re.compile(r'^[ \t]*use[ \t]+"([^"\\\n]*)"', re.M)


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def walk(folder: str, config_for) -> list:
    """The spec files under ``folder`` (sorted, depth first), without excluded files and folders."""
    out = []
    for root, dirs, names in os.walk(folder):
        cfg = config_for(root)
        dirs[:] = sorted(d for d in dirs if not cfg.excluded(os.path.join(root, d)))
        out.extend(os.path.join(root, n) for n in sorted(names)
                   if n.endswith(SPEC_SUFFIX) and not cfg.excluded(os.path.join(root, n)))
    return out


def expand(paths, config_for) -> tuple:
    """``(files, problems)``: the spec files to check, in order and without
    duplicates, and ``(path, message)`` for every named path that yields none."""
    files, problems, seen = [], [], set()

    def add(f):
        k = _key(f)
        if k not in seen:
            seen.add(k)
            files.append(f)

    for p in paths:
        if os.path.isdir(p):
            found = walk(p, config_for)
            if not found:
                problems.append((p, f"no spec files (*{SPEC_SUFFIX}) in folder {p}"
                                    + (" (after `exclude`)" if _any_spec(p) else "")))
            for f in found:
                add(f)
        elif os.path.exists(p) or os.path.islink(p):
            add(p)                  # unreadable or undecodable: reported when read
        else:
            problems.append((p, f"cannot read {p}: no such file or directory"))
    return files, problems


def _any_spec(folder: str) -> bool:
    return any(n.endswith(SPEC_SUFFIX) for _, _, names in os.walk(folder) for n in names)


def uses(path: str, text: str) -> list:
    """The files ``text`` (the content of ``path``) names in ``use`` statements, resolved.

    >>> uses("specs/a.shape", 'use "common.shape"\\n# use "x.shape"\\ndim a\\n')
    ['specs/common.shape']
    """
    return [os.path.normpath(os.path.join(os.path.dirname(path), t)) for t in USE_LINE.findall(text)]


def dependents(changed, candidates, read) -> list:
    """The files of ``candidates`` that use one of ``changed``, directly or
    transitively (in ``candidates`` order, none of ``changed``). ``read(path)``
    gives a file's text or ``None``."""
    users: dict = {}                # key of a used file -> candidates that use it
    for c in candidates:
        text = read(c)
        if text is None or "use" not in text:
            continue
        for target in uses(c, text):
            users.setdefault(_key(target), []).append(c)
    done = {_key(c) for c in changed}
    todo = list(done)
    found = set()
    while todo:
        for user in users.get(todo.pop(), ()):
            k = _key(user)
            if k not in done:
                done.add(k)
                found.add(k)
                todo.append(k)
    return [c for c in candidates if _key(c) in found]
