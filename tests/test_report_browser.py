"""The HTML report in a real browser: headless Chromium (its own
``--headless --dump-dom`` mode) loads the page of every shipped spec, bound
(every dimension given a size: the examples, 8 for the others) and unbound
(``--symbolic``: every dimension symbolic, formulas in every cell), with a
small measuring script appended to a copy of the page, and the test checks:

- no horizontal overflow in a 1400 px window (the page's scroll width);
- no two text boxes of the SVG diagram overlap; every one lies inside the SVG;
  no edge label overlaps a statement box;
- every formula is visible: it has a size and its cell does not clip it;
- no table cell's content overflows the cell.

Screenshots of the GPT-2 and T5 reports (bound and unbound) are written to
the folder named by ``SHAPECHECK_SCREENSHOTS`` (default:
``<tmp>/shapecheck-report-screenshots``). CI installs Debian's ``chromium``
(``.ci/run``); without a Chromium the test skips and says so.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from shapecheck import report as R
from shapecheck.api import check_path, read_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = sorted(glob.glob(os.path.join(ROOT, "specs", "*.shape")))
NAMES = [os.path.basename(p)[:-len(".shape")] for p in SPECS]
SHOTS = os.environ.get("SHAPECHECK_SCREENSHOTS") or os.path.join(tempfile.gettempdir(),
                                                                    "shapecheck-report-screenshots")
WIDTH = 1400


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (chromium, chromium-browser or "
                                                          "google-chrome on PATH); .ci/run installs Debian's chromium")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--disable-extensions", "--mute-audio"]

#: appended to a copy of the page; writes its measurements into the DOM for --dump-dom
MEASURE = r"""
<script>
(function () {
  function box(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }
  function overlap(a, b) { return a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5; }
  function inside(a, b) { return a[0] >= b[0] - 0.5 && a[1] >= b[1] - 0.5 && a[2] <= b[2] + 0.5 && a[3] <= b[3] + 0.5; }
  var out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
             height: document.documentElement.scrollHeight, problems: []};
  document.querySelectorAll('svg').forEach(function (svg, si) {
    var s = box(svg);
    var texts = Array.prototype.map.call(svg.querySelectorAll('text'), function (t) {
      return {b: box(t), s: t.textContent, label: t.parentNode.getAttribute('class') === 'label'}; });
    var nodes = Array.prototype.map.call(svg.querySelectorAll('g.node > rect'), box);
    texts.forEach(function (t, i) {
      if (!inside(t.b, s)) out.problems.push('svg ' + si + ': text outside the SVG: ' + t.s);
      for (var j = i + 1; j < texts.length; j++)
        if (overlap(t.b, texts[j].b)) out.problems.push('svg ' + si + ': texts overlap: ' + t.s + ' / ' + texts[j].s);
      if (t.label) nodes.forEach(function (n) {
        if (overlap(t.b, n)) out.problems.push('svg ' + si + ': label over a box: ' + t.s); });
    });
    out.texts = (out.texts || 0) + texts.length;
  });
  var formulas = document.querySelectorAll('.f, .math math');
  out.formulas = formulas.length;
  formulas.forEach(function (f) {
    var b = box(f);
    if (b[2] - b[0] < 1 || b[3] - b[1] < 1 || getComputedStyle(f).visibility !== 'visible')
      out.problems.push('formula not visible: ' + f.textContent.slice(0, 60));
    if (f.scrollWidth > f.clientWidth + 1 && f.tagName !== 'math')
      out.problems.push('formula clipped: ' + f.textContent.slice(0, 60));
  });
  document.querySelectorAll('td').forEach(function (td) {
    if (td.scrollWidth > td.clientWidth + 1) out.problems.push('cell overflows: ' + td.textContent.slice(0, 60));
  });
  var pre = document.createElement('pre');
  pre.id = 'sc-measure';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _binds(res):
    """Every dimension bound: the examples, and 8 for the rest."""
    out = {}
    for m in res.models.values():
        for d in m.dims:
            if d not in m.examples:
                out[d] = 8
    return out


def _page(name, bound):
    rel = f"specs/{name}.shape"
    res = check_path(rel, read=lambda p: read_text(os.path.join(ROOT, p)))
    if bound:
        return R.render(R.build(res, binds=_binds(res)), "html")
    return R.render(R.build(res, examples=False), "html")        # every dimension symbolic


def _run(args, tmp):
    cmd = [CHROMIUM] + FLAGS + [f"--user-data-dir={tmp / 'profile'}"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
@pytest.mark.parametrize("name", NAMES)
def test_html_report_renders_in_chromium(name, bound, tmp_path):
    page = _page(name, bound)
    assert "<script" not in page                      # the report itself has none
    target = tmp_path / "page.html"
    target.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = _run([f"--window-size={WIDTH},1000", "--dump-dom", target.as_uri()], tmp_path)
    m = re.search(r'<pre id="sc-measure">(.*?)</pre>', done.stdout, re.S)
    assert m, f"no measurements from Chromium (exit {done.returncode}): {done.stderr[-2000:]}"
    got = json.loads(m.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
                     .replace("&amp;", "&"))
    assert got["innerWidth"] == WIDTH
    assert got["scrollWidth"] <= WIDTH, f"the page is {got['scrollWidth']} px wide in a {WIDTH} px window"
    assert got["texts"] > 0 and got["formulas"] > 0
    assert got["problems"] == []
    if name in ("gpt2", "t5_small"):
        os.makedirs(SHOTS, exist_ok=True)
        shot = os.path.join(SHOTS, f"{name}-{'bound' if bound else 'unbound'}.png")
        plain = tmp_path / "shot.html"
        plain.write_text(page, encoding="utf-8")
        done = _run([f"--window-size={WIDTH},{min(int(got['height']) + 20, 16000)}", f"--screenshot={shot}",
                     plain.as_uri()], tmp_path)
        assert os.path.getsize(shot) > 10_000, done.stderr[-2000:]
