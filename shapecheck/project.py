"""The project a spec belongs to, and the boundary of ``use``.

A ``use "other.shape"`` target resolves relative to the using file and must
be a spec file (``*.shape``) under the project root of the file being
checked: the folder of the ``pyproject.toml`` in force (the nearest one with a
``[tool.shapecheck]`` table), else the repository root (the nearest folder
with ``.git``), else the checked file's own folder. ``project-root`` in
``[tool.shapecheck]`` sets the root explicitly (to widen it). Symbolic links
are followed before the comparison, so a link inside the project that points
outside it is refused too. A refused target is never opened.
"""
from __future__ import annotations

import os
from typing import Optional

from .config import ConfigError, find_pyproject, load_config


def project_root(checked_file: str) -> str:
    """The folder ``use`` targets of ``checked_file`` (and of the files it uses) must lie under."""
    start = os.path.dirname(os.path.abspath(checked_file))
    try:
        pyproject = find_pyproject(start)
    except ConfigError:
        pyproject = None
    if pyproject is not None:
        try:
            widened = load_config(start).project_root
        except ConfigError:
            widened = None
        return widened or os.path.dirname(pyproject)
    d = start
    while True:
        if os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return start
        d = parent


def _inside(path: str, root: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([real, top]) == top
    except ValueError:      # another drive (Windows)
        return False


def check_use(using_file: str, target: str, checked_file: Optional[str] = None) -> tuple:
    """``(path, None)`` for an allowed ``use target`` in ``using_file``, or
    ``(None, message)`` saying why it is refused. ``checked_file`` (default:
    ``using_file``) is the file being checked, whose project sets the root.

    >>> check_use("/p/specs/a.shape", "notes.txt")[1]
    '`use "notes.txt"`: only spec files (*.shape) can be used'
    """
    from .api import SPEC_SUFFIX

    if not target.endswith(SPEC_SUFFIX):
        return None, f'`use "{target}"`: only spec files (*{SPEC_SUFFIX}) can be used'
    if os.path.isabs(target) or (len(target) > 1 and target[1] == ":"):
        return None, f'`use "{target}"`: give a path relative to this file, not an absolute path'
    path = os.path.normpath(os.path.join(os.path.dirname(using_file), target))
    root = project_root(checked_file or using_file)
    if not _inside(path, root):
        return None, (f'`use "{target}"` reaches outside the project root {root}; set `project-root` '
                      f"in [tool.shapecheck] of pyproject.toml to widen it")
    return path, None
