"""The README's CI and pre-commit snippets work as written (issue 14, problems 6 and 8).

The CI job is parsed from the README and its `shapecheck` steps are run, in
order, on a folder with a broken spec: the lint step must fail the job, the
steps after it must be marked to run anyway, and the SARIF they upload must
report the finding. The pre-commit snippet is run for real in
tests/test_precommit.py."""
import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

yaml = pytest.importorskip("yaml", reason="PyYAML comes with pre-commit (the `test` extra)")

BAD = "dim batch, d = 4\nmodel m {\n    input x: [batch, d]\n    y = linear(x, 2 * d) : [batch, d]\n    return y\n}\n"


def readme_block(title: str) -> dict:
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text[text.index(f"\n## {title}\n"):]
    section = section[:section.index("\n## ", 1)]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))


def test_ci_snippet_fails_on_findings_and_still_uploads(tmp_path):
    steps = readme_block("CI")["jobs"]["lint-specs"]["steps"]
    runs = [s for s in steps if "shapecheck lint" in s.get("run", "")]
    assert runs and not any("|| true" in s.get("run", "") for s in steps)
    upload = [s for s in steps if "upload-sarif" in s.get("uses", "")]
    assert upload and upload[0].get("if") == "always()"
    assert runs[0].get("if") is None and all(s.get("if") == "always()" for s in runs[1:])
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "bad.shape").write_text(BAD)
    env = {**os.environ, "PYTHONPATH": ROOT}
    results = []
    for step in runs:
        argv = shlex.split(step["run"])
        assert argv[0] == "shapecheck"
        results.append(subprocess.run([sys.executable, "-m", "shapecheck", *argv[1:]], cwd=str(tmp_path),
                                      capture_output=True, text=True, env=env, timeout=300))
    assert results[0].returncode == 1, results[0].stderr          # the job fails
    assert all(r.returncode == 0 for r in results[1:])
    assert any("::error file=specs/bad.shape,line=4" in r.stdout for r in results[1:])
    sarif = tmp_path / upload[0]["with"]["sarif_file"]
    assert '"ruleId": "SC301"' in sarif.read_text()


def test_precommit_snippet_names_its_placeholders():
    config = readme_block("pre-commit")
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/OWNER/shapecheck" and repo["rev"] == "COMMIT_SHA"
    assert repo["hooks"] == [{"id": "shapecheck"}]
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert "pre-commit autoupdate --freeze" in text and "git ls-remote" in text
