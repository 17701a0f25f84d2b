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
``mtd rank (--dilations D | --nested T) --modes 0,2,5 --rank r --dim M [--json]``
    With ``--mixed-with D2 --mix-depth d``: a mixed decomposition.  Bounds on the
    generic rank of ``[[A]]_I`` for the architecture (eq. 3 of the tree, or eq. 4
    of the two trees interconnected at their common nodes of depth ``d``), from
    :func:`mtd.certify.generic_rank`; prints lower / upper / certified / method /
    seconds, progress on stderr.  JSON keys: see ``mtd rank --help``.
``mtd gap --layers L --k k --rank r [--json]``
    The separating example and Corollary 8 (:func:`mtd.separation.gap_report`):
    Theorem 7's exponents for T, T̄ and H on the example's I, whether the bounds
    meet, the exponent ratio ``2/(1+2^(1-k))`` and the channels a single network
    (or the sum of the two) needs to match the mixed decomposition of size ``r``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Sequence
from typing import Any

from ._progress import for_terminal
from .errors import MTDError
from .trees import ModeTree, format_node

__all__ = ["main", "build_parser"]

_TREE_JSON = "JSON keys: n_modes, height, nested, nodes_by_depth, dilations (if given)."
_RANK_JSON = (
    "JSON keys: lower, upper, certified (bool: lower == upper, the generic rank is then "
    "exact), method ('probes' or 'materialized'), probes, prime, seconds, upper_source "
    "('trivial', 'theorem 7' or 'min-cut'), bounds ({min-cut, theorem 7, trivial}), "
    "index_set, n_modes, output, rounds ([probes, rank, seconds forming, seconds ranking] "
    "per probe round), architecture ({tree, mixed_with, mix_depth, mixture_nodes, rank, "
    "dim})."
)
_VERIFY_JSON = (
    "JSON keys: all_hold (bool); checks (list of {claim, setting, expected, measured, holds, "
    "verdict, seconds, details}); not_yet_checked (list of str)."
)


_GAP_JSON = (
    "JSON keys: L, k, r, n_modes, I, exponent_T, exponent_Tbar, exponent_H, bounds_meet, "
    "rank_T, rank_Tbar, rank_H_half_size (decimal strings), exponent_ratio (a fraction "
    "string), exponent_ratio_float, channels_needed, channels_needed_sum."
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

    k = sub.add_parser(
        "rank",
        help="certified bounds on the generic rank of [[A]]_I for an architecture",
        description="Bound (and where possible certify) the generic rank of [[A]]_I: a "
        "lower bound from an exact witness with random weights (modulo a prime), an "
        "upper bound from the structure (min-cut, Theorem 7, trivial).",
        epilog=_RANK_JSON,
    )
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--dilations", type=_int_list, help="dilations, layer 1 first, e.g. 2,1,8,4")
    g.add_argument("--nested", help='nested tuples of modes, e.g. "((0,1),(2,3))"')
    k.add_argument("--modes", type=_int_list, required=True, help="the index set I, e.g. 0,2,5")
    k.add_argument("--rank", type=int, required=True, help="r, the number of channels")
    k.add_argument("--dim", type=int, required=True, help="M, the number of discretizers")
    k.add_argument(
        "--mixed-with",
        help="the second network's dilations (or nested tuples): a mixed decomposition",
    )
    k.add_argument(
        "--mix-depth",
        type=int,
        help="interconnect at the nodes of this depth common to both trees (default: none)",
    )
    k.add_argument("--output", type=int, default=0, help="which output y (default 0)")
    k.add_argument("--seed", type=int, default=None, help="seed of the random witness")
    k.add_argument("--max-probes", type=int, default=None, help="cap on the probe matrix side")
    k.add_argument(
        "--method",
        choices=("auto", "probes", "materialize"),
        default="auto",
        help="witness: probe matrices, the materialized tensor, or auto (by size)",
    )
    k.add_argument("--json", action="store_true", help="print one JSON object")

    gp = sub.add_parser(
        "gap",
        help="the separating example and Corollary 8: channels a single network needs",
        epilog=_GAP_JSON,
    )
    gp.add_argument("--layers", type=int, required=True, help="L (N = 2^L modes), L >= k + 1")
    gp.add_argument("--k", type=int, required=True, help="the swap block size k")
    gp.add_argument("--rank", type=int, required=True, help="r, the mixed network's channels")
    gp.add_argument("--json", action="store_true", help="print one JSON object")
    from ._design_cli import add_design_commands

    add_design_commands(sub)  # mtd profile, mtd design
    return parser


def _cmd_gap(args: argparse.Namespace) -> int:
    from .separation import gap_report

    rep = gap_report(args.layers, args.k, args.rank)
    if args.json:
        print(rep.to_json())
        return 0
    d = rep.to_dict()
    print(f"separating example: L = {rep.L} (N = {d['n_modes']}), k = {rep.k}, r = {rep.r}")
    print(f"I = {{{', '.join(map(str, rep.I))}}}")
    print(f"exponents (Theorem 7, bounds meet: {rep.bounds_meet}):")
    print(f"  T     {rep.exponent_T:>4}   rank r^{rep.exponent_T} = {d['rank_T']}")
    print(f"  T_bar {rep.exponent_Tbar:>4}   rank r^{rep.exponent_Tbar} = {d['rank_Tbar']}")
    print(
        f"  H     {rep.exponent_H:>4}   (size r/2 inside the mixed network: "
        f"(r/2)^{rep.exponent_H} = {d['rank_H_half_size']})"
    )
    print(f"exponent ratio 2/(1+2^(1-k)) = {rep.exponent_ratio} = {float(rep.exponent_ratio):.4f}")
    print(
        f"channels a single network needs: {rep.channels_needed}; "
        f"each of the two summed: {rep.channels_needed_sum}"
    )
    return 0


def _parse_tree(dilations: Any, nested: Any, command: str = "tree") -> ModeTree:
    if dilations is not None:
        return ModeTree.from_dilations(dilations)
    try:
        obj = ast.literal_eval(nested)
    except (ValueError, SyntaxError):
        raise SystemExit(
            f'mtd {command}: --nested must be nested tuples of ints such as "((0,1),(2,3))"; '
            f"got {nested!r}"
        ) from None
    return ModeTree.from_nested(obj)


def _cmd_tree(args: argparse.Namespace) -> int:
    tree = _parse_tree(args.dilations, args.nested)
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


def _cmd_rank(args: argparse.Namespace) -> int:
    from .certify import generic_rank
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .hybrids import common_interior

    tree = _parse_tree(args.dilations, args.nested, "rank")
    arch: dict[str, Any] = {"tree": tree.to_nested(), "rank": args.rank, "dim": args.dim}
    if args.mixed_with is None:
        if args.mix_depth is not None:
            raise SystemExit("mtd rank: --mix-depth needs --mixed-with")
        d: Any = TreeDecomposition.random(tree, M=args.dim, r=args.rank, kind="integer", seed=0)
    else:
        text = args.mixed_with
        if "(" in text:
            other = _parse_tree(None, text, "rank")
        else:
            other = _parse_tree(_int_list(text), None, "rank")
        mix = []
        if args.mix_depth is not None:
            common = common_interior(tree, other)
            mix = sorted(
                (n for n in common if tree.depth(n) == args.mix_depth), key=lambda n: min(n)
            )
            if not mix:
                depths = sorted({tree.depth(n) for n in common})
                raise SystemExit(
                    f"mtd rank: the trees have no common interior node of depth "
                    f"{args.mix_depth}; common nodes have depths {depths}"
                )
        arch.update(
            mixed_with=other.to_nested(),
            mix_depth=args.mix_depth,
            mixture_nodes=[sorted(n) for n in mix],
        )
        d = MixedDecomposition.random(tree, other, mix, M=args.dim, r=args.rank, kind="integer")

    res = generic_rank(
        d,
        args.modes,
        output=args.output,
        seed=args.seed,
        max_probes=args.max_probes,
        progress=None if args.json else for_terminal("mtd rank: "),
        method=args.method,
    )
    if args.json:
        print(json.dumps({**res.to_dict(), "architecture": arch}))
        return 0
    modes = "{" + ",".join(map(str, res.index_set)) + "}"
    how = f"{res.probes} x {res.probes} probe matrix" if res.probes else "the whole matricization"
    bounds = ", ".join(f"{k} {v}" for k, v in res.bounds.items() if v is not None)
    verdict = f"yes: the generic rank is {res.lower}" if res.certified else "no"
    print(f"generic rank of [[A]]_I, I = {modes}, {res.n_modes} modes, output {res.output}")
    print(f"  lower      {res.lower}  (rank mod {res.prime} of {how}, random weights)")
    print(f"  upper      {res.upper}  ({res.upper_source}; {bounds})")
    print(f"  certified  {verdict}")
    print(f"  method     {res.method}")
    print(f"  seconds    {res.seconds:.3f}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .theorems import NOT_YET_CHECKED, reports_to_json, reports_to_markdown, run_checks

    progress = None if args.json else for_terminal("checking ")
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
        if args.command == "rank":
            return _cmd_rank(args)
        if args.command == "gap":
            return _cmd_gap(args)
        if args.command in ("profile", "design"):
            return int(args.run(args))
        return _cmd_verify(args)
    except MTDError as exc:
        print(f"mtd {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
