"""Check that no content of the built docs is cut off or overflows at a given width.

Usage, after building the HTML docs (``python -m sphinx -b html docs BUILD``)::

    python docs/check_layout.py BUILD [--width 1280] [--screenshot DIR] [PAGE ...]

PAGE is a path relative to BUILD (default: every page but the generated source listings
and search pages).  Needs a Chromium (``apt-get install chromium``; ``--browser`` or
``$CHROMIUM`` to name another binary).  The pages are opened headless, from disk, with
no network, so formulas render only with the local MathJax of ``docs/fetch_mathjax.py``.

For each page a copy with a small script appended is written next to it (so that its
relative links still work) and removed afterwards.  The script, run once the page has
settled, reports every visible element whose right edge

* lies beyond the right edge of an ancestor that clips it (``overflow-x`` ``hidden`` or
  ``clip``): its content is cut off; or
* lies beyond the viewport without any scrolling ancestor;

and every element that clips (``overflow-x`` ``hidden``) content wider than itself, and
the page itself if it is wider than the viewport (it scrolls sideways).

Content inside a box that scrolls (``overflow-x: auto`` or ``scroll``) is reachable and
is not reported.  Chromium's ``--dump-dom`` returns the page with the report, which this
script parses.  The exit status is 1 if any page has a problem, 0 otherwise; with
``--screenshot`` a PNG of each page's first screen is written to DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = r"""
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var width = document.documentElement.clientWidth, problems = [];
    function describe(el) {
      var s = el.tagName.toLowerCase();
      if (el.id) s += "#" + el.id;
      if (el.className && typeof el.className === "string")
        s += "." + el.className.trim().split(/\s+/).slice(0, 3).join(".");
      var text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
      return s + (text ? " \"" + text + "\"" : "");
    }
    var all = document.querySelectorAll("body *");
    for (var i = 0; i < all.length; i++) {
      var el = all[i], r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      var style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") continue;
      var a = el.parentElement, verdict = null;
      while (a && a !== document.body) {
        var ox = getComputedStyle(a).overflowX;
        if (ox === "auto" || ox === "scroll") { verdict = "scrolls"; break; }
        if ((ox === "hidden" || ox === "clip") &&
            r.right > a.getBoundingClientRect().right + 1) {
          verdict = "cut off by " + describe(a).split(" ")[0]; break;
        }
        a = a.parentElement;
      }
      if (verdict === null && r.right > width + 1) verdict = "beyond the viewport";
      var own = style.overflowX;
      if (!verdict && (own === "hidden" || own === "clip") && el.scrollWidth > el.clientWidth + 1)
        verdict = "its own content cut off (" + (el.scrollWidth - el.clientWidth) + " px)";
      if (verdict && verdict !== "scrolls")
        problems.push({element: describe(el), right: Math.round(r.right), verdict: verdict});
    }
    if (document.documentElement.scrollWidth > width + 1)
      problems.push({element: "html", right: document.documentElement.scrollWidth,
                     verdict: "the page scrolls sideways"});
    var pre = document.createElement("pre");
    pre.id = "mtd-layout-report";
    pre.textContent = JSON.stringify({
      width: width, scrollWidth: document.documentElement.scrollWidth, problems: problems
    });
    document.body.appendChild(pre);
  }, 1500);
});
</script>
"""

REPORT = re.compile(r'<pre id="mtd-layout-report">(.*?)</pre>', re.S)
SKIP = ("_modules/", "_sources/", "_static/", "search.html", "genindex.html", "py-modindex")


def chromium(browser: str, width: int, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium without network, GPU or sandbox."""
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--window-size={width},1000",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_page(browser: str, build: Path, page: str, width: int) -> dict:
    """The report of the probe on one page (the keys: width, scrollWidth, problems)."""
    source = build / page
    probe = source.with_name(f".layoutcheck-{source.name}")
    html = source.read_text(encoding="utf-8")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    try:
        with tempfile.TemporaryDirectory() as profile:
            done = chromium(
                browser, width, f"--user-data-dir={profile}", "--dump-dom", probe.as_uri()
            )
    finally:
        probe.unlink()
    match = REPORT.search(done.stdout)
    if match is None:
        return {"error": f"no report from Chromium: {done.stderr.strip()[-300:]}"}
    text = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return json.loads(text.replace("&amp;", "&"))


def main(argv: list[str] | None = None) -> int:
    """Check the pages; print one line per page with a problem; exit status 1 if any."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", type=Path, help="the HTML build directory")
    parser.add_argument("pages", nargs="*", help="pages relative to BUILD (default: all)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--screenshot", type=Path, help="write a PNG of each page here")
    default = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"
    parser.add_argument("--browser", default=default)
    args = parser.parse_args(argv)
    build = args.build.resolve()
    pages = args.pages or sorted(
        str(p.relative_to(build))
        for p in build.rglob("*.html")
        if not any(s in str(p.relative_to(build)) for s in SKIP)
    )
    failed = 0
    for page in pages:
        report = check_page(args.browser, build, page, args.width)
        problems = report.get("problems", [])
        if "error" in report or problems:
            failed += 1
            print(f"{page}: {report.get('error', '')}")
            for p in problems[:10]:
                print(f"    {p['verdict']}: {p['element']} (right edge {p['right']} px)")
        if args.screenshot:
            args.screenshot.mkdir(parents=True, exist_ok=True)
            png = args.screenshot / (page.replace("/", "__").removesuffix(".html") + ".png")
            with tempfile.TemporaryDirectory() as profile:
                chromium(
                    args.browser,
                    args.width,
                    f"--user-data-dir={profile}",
                    f"--screenshot={png}",
                    (build / page).as_uri(),
                )
    print(f"{len(pages)} pages at {args.width} px: {failed} with content cut off or overflowing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
