"""Both interpreters read the same text, and carets land on the lines the parser counts."""
import shapecheck
from shapecheck.span import Span, snippet
from shapecheck.verify import verify

# a lone carriage return inside a block: whitespace to the parser, a line break to
# Python's universal newlines (which once shifted the NumPy side's lines by one)
TEXT = ("dim h = 4\nblock blk(t: [b, l]) -> [b, l] {\n    return\ry\n}\n".replace("y\n}", "relu(t)\n}")
        + "model m {\n    input x: [h, h, h]\n    v = rearrange(x, \"a b c -> a (b c)\")\n    return v\n}\n")


def test_lone_carriage_return_keeps_both_sides_on_the_same_lines(tmp_path):
    path = tmp_path / "cr.shape"
    path.write_bytes(TEXT.encode())
    res = shapecheck.check_path(str(path))
    assert res.diagnostics == []
    v = [n for n in res.models["m"].nodes if n.name == "v"][0]
    assert TEXT.split("\n")[v.span.line - 1].strip().startswith("v = rearrange")
    report = verify(str(path), samples=1)
    assert report.diagnostics == [] and all(r.failed is None for r in report.runs)


def test_snippet_counts_lines_like_the_parser():
    text = "a\x0cb\nsecond line\r\nthird\rline\n"
    assert snippet(text, Span("f", 2, 1, 2, 7)).splitlines()[0].strip() == "second line"
    assert snippet(text, Span("f", 3, 1, 3, 6)).splitlines()[0].strip() == "third line"
    assert snippet(text, Span("f", 1, 1, 1, 2)).splitlines()[0].strip() == "a b"
