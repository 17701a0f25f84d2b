"""Put a local copy of MathJax 3 into ``docs/_static/mathjax/`` (not committed).

With it, the built pages render formulas without network access (``docs/conf.py`` uses
it when ``docs/_static/mathjax/tex-chtml.js`` exists; otherwise the pages load MathJax
from its CDN when they are viewed).  Usage, from the repository root::

    python docs/fetch_mathjax.py                 # runs `npm pack mathjax@3`
    python docs/fetch_mathjax.py mathjax-3.2.2.tgz   # or unpack a tarball you have

It copies ``es5/tex-chtml.js`` and the CommonHTML fonts it loads from the npm package
``mathjax`` (Apache-2.0), about 1.5 MB.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent / "_static" / "mathjax"
WANTED = ("package/es5/tex-chtml.js", "package/es5/output/chtml/fonts/woff-v2/")


def main(argv: list[str]) -> None:
    """Unpack the tarball given, or one fetched with npm, into ``TARGET``."""
    with tempfile.TemporaryDirectory() as tmp:
        if argv:
            tarball = Path(argv[0]).resolve()
        else:
            out = subprocess.run(
                ["npm", "pack", "mathjax@3"], cwd=tmp, check=True, capture_output=True, text=True
            )
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
        if TARGET.exists():
            shutil.rmtree(TARGET)
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                if not member.isfile() or not member.name.startswith(WANTED):
                    continue
                dest = TARGET / member.name.removeprefix("package/es5/")
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                dest.write_bytes(source.read())
    size = sum(f.stat().st_size for f in TARGET.rglob("*") if f.is_file())
    print(f"MathJax copied to {TARGET} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
