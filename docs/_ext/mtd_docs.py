"""A local Sphinx extension: directives that run example code while the docs build.

``mtd-exec`` runs the Python code in its content, statement by statement as the
interpreter would, and shows it as an interactive session with what each statement
printed and the ``repr`` of each expression's value (unless ``None``)::

    .. mtd-exec::

       import mtd
       T = mtd.ModeTree.baseline(3)
       T.tiling([0, 1, 2])

The statements of one page share a namespace, so later blocks see earlier names.
An exception fails the build with its traceback.

``mtd-run`` runs a function of an example script::

    .. mtd-run:: examples/plot_separating_example.py
       :function: separating_table
       :caption: The separating example, exact ranks

The path is relative to the documentation's source directory. The script is imported
once per build (as a module, what it prints discarded), then ``function`` (default
``main``) is called with no arguments, and what it gives is
inserted into the page:

* a pair ``(header, rows)`` — a table of plain-text cells (``str`` of each value);
* a ``str`` — a literal block;
* ``None`` — what the function printed, as a literal block.

An exception in the script fails the build with its traceback.  The page is rebuilt
when the script changes.

Every mention of "the theory page, §N" (or "the theory page's (§N)") in rendered text —
docstrings and guide pages alike — becomes a link to section N of ``theory.rst``
(label ``theory-sN``); a bare "the theory page" links to the page.  Literals and code
are left alone.

Two adjustments of autodoc and autosummary for mtd's docstrings:

* constants re-exported by a package (``mtd.FROM_T``, ``mtd.G_FUNCTIONS``) get the
  docstring written under them in the module that defines them, instead of the
  docstring of their type (``int``);
* autosummary's one-line summaries do not stop at the abbreviations the docstrings use
  for the papers' numbering ("eq. 3", "Def. 4", "w.r.t.").
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import sphinx.ext.autosummary
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import PycodeError
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_MODULES: dict[Path, ModuleType] = {}
_NAMESPACES: dict[str, dict[str, Any]] = {}  # per page, for mtd-exec


def _forget_namespace(app: Sphinx, docname: str, source: list[str]) -> None:
    """A page read again starts with an empty namespace."""
    _NAMESPACES.pop(docname, None)


def load_script(path: Path) -> ModuleType:
    """Import the script at ``path`` as a module (once per build), its folder importable."""
    path = path.resolve()
    if path not in _MODULES:
        name = f"_mtd_docs_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        folder = str(path.parent)
        added = folder not in sys.path
        if added:
            sys.path.insert(0, folder)
        sys.modules[name] = module
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # a gallery script prints
                spec.loader.exec_module(module)
        finally:
            if added:
                sys.path.remove(folder)
        _MODULES[path] = module
    return _MODULES[path]


class MTDRunDirective(SphinxDirective):
    """Run a function of an example script and insert its table or its output."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False
    option_spec = {
        "function": directives.unchanged,
        "caption": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        rel = self.arguments[0]
        path = Path(self.env.srcdir) / rel
        if not path.is_file():
            raise self.error(f"mtd-run: no script {rel!r} under {self.env.srcdir}")
        self.env.note_dependency(str(path))
        name = self.options.get("function", "main")
        start = time.perf_counter()
        out = io.StringIO()
        try:
            module = load_script(path)
            func = getattr(module, name)
            with contextlib.redirect_stdout(out):
                result = func()
        except Exception:
            raise self.error(f"mtd-run: {rel}:{name}() failed:\n{traceback.format_exc()}") from None
        logger.info(f"mtd-run: {rel}:{name}() took {time.perf_counter() - start:.1f} s")
        if result is None:
            return [self._literal(out.getvalue())]
        if isinstance(result, str):
            return [self._literal(result)]
        header, rows = result
        return [self._table(header, rows)]

    def _literal(self, text: str) -> nodes.Node:
        block = nodes.literal_block(text.rstrip("\n"), text.rstrip("\n"))
        block["language"] = "text"
        return block

    def _cell(self, value: Any) -> nodes.entry:
        entry = nodes.entry()
        entry += nodes.paragraph(str(value), str(value))
        return entry

    def _table(self, header: Any, rows: Any) -> nodes.Node:
        header = list(header)
        rows = [list(row) for row in rows]
        for row in rows:
            if len(row) != len(header):
                raise self.error(
                    f"mtd-run: a row has {len(row)} cells, the header {len(header)}: {row}"
                )
        table = nodes.table(classes=["mtd-run-table"])
        if "caption" in self.options:
            title, messages = self.state.inline_text(self.options["caption"], self.lineno)
            table += nodes.title(self.options["caption"], "", *title)
            table += messages
        group = nodes.tgroup(cols=len(header))
        table += group
        for _ in header:
            group += nodes.colspec(colwidth=1)
        head = nodes.thead()
        group += head
        head_row = nodes.row()
        head += head_row
        for cell in header:
            head_row += self._cell(cell)
        body = nodes.tbody()
        group += body
        for row in rows:
            body_row = nodes.row()
            body += body_row
            for cell in row:
                body_row += self._cell(cell)
        return table


_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.If,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
)


class MTDExecDirective(SphinxDirective):
    """Run the content as Python statements; show them as a session with their output."""

    has_content = True
    required_arguments = 0
    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        code = "\n".join(self.content)
        namespace = _NAMESPACES.setdefault(self.env.docname, {"__name__": "__docs__"})
        lines = code.splitlines()
        try:
            tree = ast.parse(code)
        except SyntaxError:
            raise self.error(f"mtd-exec: invalid Python:\n{traceback.format_exc()}") from None
        shown: list[str] = []
        first = 0  # the first source line not shown yet
        for stmt in tree.body:
            assert stmt.end_lineno is not None
            start = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
            # Comment lines above a statement are typed at the prompt, as the statement is.
            shown += [">>> " + line for line in lines[first : start - 1] if line.strip()]
            body = lines[start - 1 : stmt.end_lineno]
            shown += [">>> " + body[0]] + ["... " + line for line in body[1:]]
            if isinstance(stmt, _COMPOUND):
                shown.append("...")  # the blank line that ends an indented block
            first = stmt.end_lineno
            chunk = "\n".join(body)
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    if isinstance(stmt, ast.Expr):
                        value = eval(
                            compile(ast.Expression(stmt.value), "<docs>", "eval"), namespace
                        )
                        if value is not None:
                            print(repr(value))
                    else:
                        exec(compile(ast.Module([stmt], []), "<docs>", "exec"), namespace)
            except Exception:
                raise self.error(
                    f"mtd-exec: this statement failed:\n{chunk}\n{traceback.format_exc()}"
                ) from None
            shown += out.getvalue().rstrip("\n").splitlines()
        text = "\n".join(shown)
        block = nodes.literal_block(text, text)
        block["language"] = "pycon"
        return [block]


ABBREVIATIONS = ("eq.", "Eq.", "Def.", "Thm.", "Alg.", "w.r.t.", "e.g.", "resp.", "cf.")


def constant_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Give a re-exported constant the docstring written under it where it is defined."""
    if what not in ("data", "attribute") or not name.startswith("mtd."):
        return
    first = next((line.strip() for line in lines if line.strip()), "")
    own = (type(obj).__doc__ or "").strip().splitlines()
    if first and first != (own[0].strip() if own else ""):
        return  # it has a docstring of its own
    short = name.rsplit(".", 1)[1]
    found: list[tuple[bool, bool, str, list[str]]] = []
    for modname in sorted(sys.modules):
        module = sys.modules[modname]
        if modname.split(".")[0] != "mtd" or not hasattr(module, "__file__"):
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except PycodeError:
            continue
        for (scope, attr), doc in docs.items():
            if not scope and getattr(module, attr, None) is obj:
                private = any(part.startswith("_") for part in modname.split("."))
                found.append((attr != short, private, modname, list(doc)))
    if found:
        lines[:] = min(found)[3]  # the same name first, then public modules first


THEORY_REFERENCE = re.compile(r"the\s+theory\s+page(?:['’]s)?(?:,?\s*\(?§([1-6]))?")
_NO_LINKS = (
    nodes.literal,
    nodes.literal_block,
    nodes.reference,
    nodes.title,
    addnodes.pending_xref,
    addnodes.desc_signature,
    nodes.math,
    nodes.math_block,
)


def _theory_link(text: str, section: str | None) -> nodes.Node:
    target = f"theory-s{section}" if section else "theory"
    ref = addnodes.pending_xref(
        "", refdomain="std", reftype="ref", reftarget=target, refexplicit=True, refwarn=True
    )
    ref += nodes.inline(text, text)
    return ref


def link_theory_references(app: Sphinx, doctree: nodes.document) -> None:
    """Turn "the theory page, §N" in rendered text into a link to that section."""
    for text in list(doctree.findall(nodes.Text)):
        if not THEORY_REFERENCE.search(text.astext()):
            continue
        parent = text.parent
        if parent is None or any(isinstance(a, _NO_LINKS) for a in _ancestors(text)):
            continue
        source = text.astext()
        pieces: list[nodes.Node] = []
        last = 0
        for match in THEORY_REFERENCE.finditer(source):
            if match.start() > last:
                pieces.append(nodes.Text(source[last : match.start()]))
            pieces.append(_theory_link(match.group(0), match.group(1)))
            last = match.end()
        if last < len(source):
            pieces.append(nodes.Text(source[last:]))
        index = parent.index(text)
        parent.remove(text)
        for offset, piece in enumerate(pieces):
            parent.insert(index + offset, piece)


def _ancestors(node: nodes.Node) -> list[nodes.Node]:
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return out


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``mtd-run`` and ``mtd-exec`` directives."""
    app.add_directive("mtd-run", MTDRunDirective)
    app.add_directive("mtd-exec", MTDExecDirective)
    app.connect("source-read", _forget_namespace)
    app.connect("doctree-read", link_theory_references)
    app.connect("autodoc-process-docstring", constant_docstring, priority=400)  # before numpydoc
    known = sphinx.ext.autosummary.WELL_KNOWN_ABBREVIATIONS
    sphinx.ext.autosummary.WELL_KNOWN_ABBREVIATIONS = (
        *known,
        *(a for a in ABBREVIATIONS if a not in known),
    )
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
