"""The report in a real browser: headless Chromium (Debian's `chromium`) renders the page from
file://, shows every rule and adapter, and logs no error. Without Chromium the test says why and
skips, unless CNNSPEC_REQUIRE_BROWSER is set (CI sets it and installs Chromium)."""

import json
import os
import shutil
import subprocess

import pytest

from cnnspec.conformance.runner import run
from cnnspec.reports import html, matrix
from cnnspec.reports.results import Results
from cnnspec.spec import RULES

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        reason = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CNNSPEC_REQUIRE_BROWSER"):
            pytest.fail(reason + ", and CNNSPEC_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    return found


def test_report_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    control = run("numpy", profile="quick")
    second = Results.from_dict(json.loads(json.dumps(control.to_dict())))
    second.adapter["name"] = "numpy-again"
    page = html.write(matrix.build([control, second]), tmp_path / "report.html")
    profile = tmp_path / "profile"
    shown = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                            page.as_uri()], capture_output=True, text=True, timeout=120,
                           check=False)
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = shown.stdout
    assert all(f'id="{rule_id}"' in dom for rule_id in RULES)
    assert "<th>numpy</th>" in dom and "<th>numpy-again</th>" in dom
    console = [line for line in shown.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    picture = tmp_path / "report.png"
    subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,1000",
                    f"--screenshot={picture}", page.as_uri()], capture_output=True, timeout=120,
                   check=False)
    assert picture.exists() and picture.stat().st_size > 10_000


# Measures the page as a reader sees it: page overflow, the matrix's column widths before and
# after a drill-down opens, where the first ranked difference ends (measured before anything
# opens), and the rules the differences section lists. Appended to a copy of
# the report; the result is read back from the DOM Chromium dumps.
MEASURE = """
<script>
(function () {
  var first = document.querySelector("#differences .difference h3");
  var firstBottom = first ? Math.round(first.getBoundingClientRect().bottom) : null;
  function widths() {
    return Array.from(document.querySelectorAll("table.matrix > thead th"))
      .map(function (th) { return Math.round(th.getBoundingClientRect().width); });
  }
  var before = widths();
  var opened = document.querySelector("table.matrix td details");
  if (opened) { opened.open = true; }
  var after = widths();
  var root = document.documentElement;
  var last = Array.from(document.querySelectorAll("table.matrix td details")).pop();
  if (last) { last.open = true; }  // a drill-down in the rightmost column too
  var out = {viewport: root.clientWidth, page: root.scrollWidth, before: before, after: after,
             height: window.innerHeight,
             first_bottom: firstBottom,
             after_both: widths(),
             opened: Boolean(opened),
             differences: Array.from(document.querySelectorAll("#differences h3 a"))
               .map(function (a) { return a.getAttribute("href").slice(1); })};
  var pre = document.createElement("pre");
  pre.id = "measurements";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


@pytest.mark.parametrize("width", [1400, 800])
def test_the_report_reads_at_1400_and_800_pixels(tmp_path, width):
    """No horizontal page overflow, column widths unchanged when a drill-down opens, the first
    ranked difference on the first screen (a 600 px high window), and the differences section
    lists what the results say (reports.differences)."""
    from pathlib import Path

    from cnnspec.reports import differences

    browser = chromium()
    tests = Path(__file__).resolve().parent
    runs = [run("numpy", profile="quick"),
            run(f"{tests / 'mutants.py'}:CountIncludePadInverted", profile="quick"),
            run(f"{tests / 'narrow.py'}:TwoSpatialAxesOnly", profile="quick"),
            run(f"{tests / 'conventions.py'}:IgnoresNanInMaxPool", profile="quick"),
            run(f"{tests / 'narrow.py'}:Float32Only", profile="quick"),
            run(f"{tests / 'narrow.py'}:Declared2dForwardFloat32", profile="quick")]  # six
    runs[1].adapter["name"] = "mutant"
    built = matrix.build(runs)
    page = html.write(built, tmp_path / "report.html")
    measured = tmp_path / "measured.html"
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"))
    shown = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                            f"--window-size={width},600", "--dump-dom", measured.as_uri()],
                           capture_output=True, text=True, timeout=120, check=False)
    assert shown.returncode == 0, shown.stderr[-2000:]
    found = json.loads(shown.stdout.split('<pre id="measurements">')[1].split("</pre>")[0]
                       .replace("&quot;", '"'))
    assert found["page"] <= found["viewport"], found  # no horizontal scrollbar
    print(f"at {width}x600: the first ranked difference's heading ends at "
          f"{found['first_bottom']} px of {found['height']}")
    assert found["first_bottom"] is not None and found["first_bottom"] <= found["height"], found
    assert found["opened"] and found["before"] == found["after"] == found["after_both"], found
    assert found["differences"] == [d.rule.id for d in differences.differences(built)]
    assert "pool.avg_count_include_pad" in found["differences"]  # the mutant's failure
    assert "pool.max_nan" in found["differences"]  # NaN ignored vs propagated
