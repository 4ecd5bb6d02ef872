"""The `shapecheck` pre-commit hook works through the real pre-commit framework.

`pre-commit try-repo REPO HOOK` installs REPO's package into a fresh hook
virtualenv (pip, from PyPI: this test needs network access and takes a minute
or two) and runs the hook on the given files. try-repo only sees a
repository's committed files plus changes to *tracked* files, so the test
snapshots the working tree (including files not yet committed) into a scratch
git repository first: it checks exactly the code under test, in a fresh clone
or in a working copy, and never touches the project's own git state.
"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

GOOD = """dim batch, d = 4
model m {
    input x: [batch, d]
    return linear(x, d)
}
"""
BAD = """dim batch, d = 4
model m {
    input x: [batch, d]
    y = linear(x, 2 * d) : [batch, d]
    return y
}
"""
_SKIP = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", "*.pyc", ".pytest_cache",
                               ".hypothesis", ".benchmarks", "build", "dist", "*.egg-info", ".shapecheck_cache")


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path / "home"),
        "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1",
    })
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def _git(env, cwd, *args):
    subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                   cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def hook_setup(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("precommit")
    env = _env(tmp_path)
    hook_repo = tmp_path / "hook-repo"
    shutil.copytree(ROOT, hook_repo, ignore=_SKIP)
    _git(env, hook_repo, "init", "-q")
    _git(env, hook_repo, "add", "-A")
    _git(env, hook_repo, "commit", "-q", "-m", "snapshot")
    work = tmp_path / "work"
    work.mkdir()
    (work / "good.shape").write_text(GOOD)
    (work / "bad.shape").write_text(BAD)
    (work / "muted.shape").write_text(BAD.replace(": [batch, d]\n    return", ": [batch, d]  # shapecheck: ignore SC301\n    return"))
    (work / "pyproject.toml").write_text('[tool.shapecheck]\npaths = ["specs"]\n')
    (work / "specs").mkdir()
    (work / "specs" / "dims.shape").write_text("dim batch, d = 4\n")
    (work / "specs" / "user.shape").write_text('use "dims.shape"\nmodel m {\n    input x: [batch, d]\n'
                                               '    return linear(x, d)\n}\n')
    _git(env, work, "init", "-q")
    _git(env, work, "add", "-A")
    _git(env, work, "commit", "-q", "-m", "specs")
    return env, hook_repo, work


def _try_repo(hook_setup, *files):
    env, hook_repo, work = hook_setup
    p = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "shapecheck",
                        "--verbose", "--files", *files],
                       cwd=work, env=env, capture_output=True, text=True, timeout=900)
    return p, p.stdout + p.stderr


def test_manifest_declares_the_hook():
    text = open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8").read()
    assert "id: shapecheck" in text and "entry: shapecheck lint" in text
    assert "language: python" in text and r"files: \.shape$" in text


def test_hook_passes_on_a_good_spec(hook_setup):
    p, out = _try_repo(hook_setup, "good.shape")
    assert p.returncode == 0, out
    assert "Passed" in out, out


def test_hook_fails_on_a_bad_spec_and_names_the_line(hook_setup):
    p, out = _try_repo(hook_setup, "good.shape", "bad.shape")
    assert p.returncode == 1, out
    assert "Failed" in out, out
    assert "bad.shape:4:" in out and "SC301" in out, out
    # the hook never modifies files
    assert "files were modified by this hook" not in out
    assert (hook_setup[2] / "bad.shape").read_text() == BAD


def test_a_malformed_suppression_fails_the_hook(hook_setup):
    p, out = _try_repo(hook_setup, "muted.shape")
    assert p.returncode == 1, out
    assert "muted.shape:4:" in out and "SC301" in out and "SC702" in out, out


def test_editing_a_used_file_rechecks_the_specs_that_use_it(hook_setup):
    env, _, work = hook_setup
    p, out = _try_repo(hook_setup, "specs/dims.shape")
    assert p.returncode == 0 and "2 files checked" in out, out
    (work / "specs" / "dims.shape").write_text("dim batch\n")       # `d` removed: user.shape breaks
    _git(env, work, "add", "-A")
    try:
        p, out = _try_repo(hook_setup, "specs/dims.shape")        # pre-commit passes only the changed file
        assert p.returncode == 1, out
        assert "specs/user.shape:3:" in out and "SC101" in out, out
    finally:
        (work / "specs" / "dims.shape").write_text("dim batch, d = 4\n")
        _git(env, work, "add", "-A")


def test_the_readme_snippet_works_with_owner_and_commit_filled_in(hook_setup):
    """The README's `.pre-commit-config.yaml`, with OWNER's URL and COMMIT_SHA replaced, runs the hook."""
    import re
    env, hook_repo, work = hook_setup
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = readme[readme.index("\n## pre-commit\n"):]
    snippet = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    config = snippet.replace("https://github.com/OWNER/shapecheck", str(hook_repo)).replace("COMMIT_SHA", sha)
    (work / ".pre-commit-config.yaml").write_text(config)
    _git(env, work, "add", ".pre-commit-config.yaml")
    try:
        p = subprocess.run([sys.executable, "-m", "pre_commit", "run", "shapecheck", "--files", "bad.shape"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=900)
        out = p.stdout + p.stderr
        assert p.returncode == 1 and "bad.shape:4:" in out and "SC301" in out, out
    finally:
        (work / ".pre-commit-config.yaml").unlink()
        _git(env, work, "add", "-A")
