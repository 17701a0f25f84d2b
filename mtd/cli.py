"""The ``mtd`` command line: a thin layer that parses, calls the library and prints.

Commands
--------
``mtd verify [--quick] [--json]``
    Run the checks of :mod:`mtd.theorems`; print a table claim / setting /
    expected / measured / verdict and the claims not checked yet; exit 0 iff every
    check holds.  JSON keys: ``all_hold`` (bool), ``checks`` (list of objects with
    ``claim``, ``setting``, ``expected``, ``measured``, ``holds``, ``verdict``,
    ``seconds``, ``details``), ``not_yet_checked`` (list of str).
``mtd tree (--dilations 2,1,8,4 | --nested "((0,1),(2,3))") [--json]``
    Draw the tree and list its nodes by depth.  JSON keys: ``n_modes``,
    ``height``, ``nested``, ``nodes_by_depth`` (list, per depth, of sorted mode
    lists), ``dilations`` (when given).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from typing import Any

from .errors import MTDError
from .trees import ModeTree, format_node

__all__ = ["main", "build_parser"]

_TREE_JSON = "JSON keys: n_modes, height, nested, nodes_by_depth, dilations (if given)."
_VERIFY_JSON = (
    "JSON keys: all_hold (bool); checks (list of {claim, setting, expected, measured, holds, "
    "verdict, seconds, details}); not_yet_checked (list of str)."
)


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints such as 2,1,8,4; got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mtd`` console script."""
    parser = argparse.ArgumentParser(
        prog="mtd",
        description="Mode trees, mixed tensor decompositions and trustworthy matricization ranks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser(
        "verify",
        help="check the theorems mtd implements",
        description=__doc__,
        epilog=_VERIFY_JSON,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("--quick", action="store_true", help="smaller settings, a few seconds")
    v.add_argument("--json", action="store_true", help="print one JSON object")

    t = sub.add_parser(
        "tree", help="draw a mode tree and list its nodes by depth", epilog=_TREE_JSON
    )
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--dilations", type=_int_list, help="dilations, layer 1 first, e.g. 2,1,8,4")
    g.add_argument("--nested", help='nested tuples of modes, e.g. "((0,1),(2,3))"')
    t.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _cmd_tree(args: argparse.Namespace) -> int:
    if args.dilations is not None:
        tree = ModeTree.from_dilations(args.dilations)
    else:
        try:
            nested = ast.literal_eval(args.nested)
        except (ValueError, SyntaxError):
            raise SystemExit(
                f'mtd tree: --nested must be nested tuples of ints such as "((0,1),(2,3))"; '
                f"got {args.nested!r}"
            ) from None
        tree = ModeTree.from_nested(nested)
    if args.json:
        out: dict[str, Any] = tree.to_dict()
        if args.dilations is not None:
            out["dilations"] = args.dilations
        print(json.dumps(out))
        return 0
    print(tree.draw())
    print()
    print(f"{tree.n_modes} modes, height {tree.height}")
    for d, group in enumerate(tree.nodes_by_depth()):
        print(f"depth {d}: " + " ".join(format_node(n) for n in group))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .theorems import NOT_YET_CHECKED, reports_to_json, reports_to_markdown, run_checks

    def progress(name: str) -> None:
        if not args.json:
            print(f"checking {name} ...", file=sys.stderr, flush=True)

    reports = run_checks(quick=args.quick, progress=progress)
    ok = all(r.holds for r in reports)
    if args.json:
        print(reports_to_json(reports))
    else:
        print(reports_to_markdown(reports))
        print()
        print("Not checked by mtd verify yet:")
        for item in NOT_YET_CHECKED:
            print(f"  - {item}")
        print()
        total = sum(r.seconds for r in reports)
        verdict = "all checks hold" if ok else "SOME CHECKS FAIL"
        print(f"{verdict} ({len(reports)} checks, {total:.1f} s)")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mtd`` command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "tree":
            return _cmd_tree(args)
        return _cmd_verify(args)
    except MTDError as exc:
        print(f"mtd {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
