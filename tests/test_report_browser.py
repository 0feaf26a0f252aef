"""The headless-Chromium report check itself, on a tiny Snakemake workflow: it must tell an image
that renders from one that does not, and read an HTML result's page and every caption."""

from __future__ import annotations

import subprocess
import textwrap

from chromium import Chromium, walk_report
from conftest import SNAKEMAKE

TOY_SNAKEFILE = textwrap.dedent('''
    rule all:
        input: "good.png", "broken.png", "page.html"

    rule good:
        output: report("good.png", caption="good.rst", category="Figures")
        run:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            figure, axis = plt.subplots(figsize=(2, 1))
            axis.plot([0, 1], [0, 1])
            figure.savefig(output[0], dpi=50)

    rule broken:
        output: report("broken.png", caption="broken.rst", category="Figures")
        run:
            with open(output[0], "wb") as handle:
                handle.write(b"not an image")

    rule page:
        output: report("page.html", caption="page.rst", category="Settings")
        run:
            with open(output[0], "w") as handle:
                handle.write("<html><body><p>answer: 42</p></body></html>")
    ''')


def test_the_walker_tells_rendered_from_broken_images_and_reads_pages_and_captions(chromium, tmp_path):
    (tmp_path / "Snakefile").write_text(TOY_SNAKEFILE)
    for name, caption in [("good", "A line that renders."), ("broken", "Bytes that are no image."),
                          ("page", "An HTML page.")]:
        (tmp_path / f"{name}.rst").write_text(caption + "\n")
    for args in (["--cores", "1"], ["--report", "report.html"]):
        result = subprocess.run([str(SNAKEMAKE), *args], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
    with Chromium(chromium) as browser:
        records = walk_report(browser, tmp_path / "report.html")
    assert set(records) == {"good.png", "broken.png", "page.html"}
    good, broken, page = records["good.png"], records["broken.png"], records["page.html"]
    assert (good["naturalWidth"], good["naturalHeight"]) == (100, 50) and good["shownWidth"] > 0
    assert broken["naturalWidth"] == 0
    assert "answer: 42" in page["text"]
    assert good["caption"] == "A line that renders." and page["caption"] == "An HTML page."
    assert all(record["captionShown"] for record in records.values())
