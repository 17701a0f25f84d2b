"""Sphinx configuration of mtd's documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` after
``pip install ".[docs]"``.  The pictures and tables are computed while the docs build:
sphinx-gallery runs the examples in ``docs/examples/`` (the gallery), and the local
``mtd-run`` and ``mtd-exec`` directives (``docs/_ext/mtd_docs.py``) run the code of the
guide.  The build needs no network; two things are optional (``docs/development.rst``):

* MathJax: a copy in ``docs/_static/mathjax/`` (``python docs/fetch_mathjax.py``) is
  used when present, so that formulas render offline; otherwise the pages load
  MathJax 3 from its CDN when they are viewed.
* intersphinx: links into the numpy, scipy and TensorLy docs need their inventories,
  which are downloaded while the docs build; set ``MTD_DOCS_INTERSPHINX=1`` to enable
  them (off by default, so the default build works offline).
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
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "mtd_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples", "_ext", "_templates", "_static"]
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

# -- math -------------------------------------------------------------------------------
# A local MathJax (``python docs/fetch_mathjax.py``) makes the pages render formulas
# without network access; without it Sphinx's default, MathJax 3 from its CDN, is used.
MATHJAX_LOCAL = DOCS / "_static" / "mathjax" / "tex-chtml.js"
if MATHJAX_LOCAL.is_file():
    mathjax_path = "mathjax/tex-chtml.js"  # relative to the built _static folder

# -- examples gallery (sphinx-gallery) -------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",  # run every plot_*.py while the docs build
    "ignore_pattern": r"/_",  # helper modules of the examples
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "min_reported_time": 1,
}

# -- links into other projects' docs (needs network: opt in) ---------------------------
if os.environ.get("MTD_DOCS_INTERSPHINX", "").strip() not in ("", "0"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "tensorly": ("https://tensorly.org/stable", None),
    }
    intersphinx_timeout = 30

# -- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"mtd {release}"
html_static_path = ["_static"]
html_css_files = ["mtd.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    "navigation_depth": 2,
    "show_nav_level": 1,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "theory": []}
html_show_sourcelink = True
