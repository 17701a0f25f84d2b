"""Sphinx configuration of mtd's documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` after
``pip install ".[docs]"``.  The pictures and tables are computed while the docs build:
the ``plot`` directive (matplotlib) runs ``docs/examples/plot_*.py`` and the local
``mtd-run`` directive (``docs/_ext/mtd_docs.py``) runs the other example scripts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the working tree's mtd, not an installed copy; find the local extension.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

# Pictures are drawn off screen: choose the Agg backend before pyplot is imported.
os.environ["MPLBACKEND"] = "Agg"
import matplotlib  # noqa: E402

matplotlib.use("Agg")

import mtd  # noqa: E402

# -- project ------------------------------------------------------------------------
project = "mtd"
author = "the mtd developers"
copyright = "the mtd developers, BSD-3-Clause"
release = mtd.__version__
version = ".".join(release.split(".")[:2])

# -- extensions -----------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "mtd_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "_ext", "_templates"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "code"
pygments_style = "sphinx"

# -- autodoc, autosummary, numpydoc -----------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections carry the types

numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- matplotlib's plot directive ----------------------------------------------------------
plot_basedir = str(DOCS)
plot_include_source = False
plot_html_show_source_link = True
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_pre_code = ""
plot_rcparams = {"figure.dpi": 110, "savefig.bbox": "tight"}
plot_apply_rcparams = True

# -- HTML -------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"mtd {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Mode trees, mixed tensor decompositions and matricization ranks you can trust",
    "fixed_sidebar": True,
    "page_width": "1240px",
    "sidebar_width": "220px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
