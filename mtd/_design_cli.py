"""The ``mtd profile`` and ``mtd design`` commands (registered by :mod:`mtd.cli`).

``mtd profile (--dilations D | --nested T) --rank r --dim M [--family F] [--json]``
    :func:`mtd.rank_profile` of the tree decomposition (or, with ``--mixed-with`` and
    ``--mix-depth``, the mixed decomposition); prints the summary and, for at most
    ``--show`` sets, every set's bounds.
``mtd design --modes N --rank r --dim M [--objective O] [--search S] [--json]``
    :mod:`mtd.design`: dilation orders, mixture sets of the baseline tree and its
    swapped companion, or per-depth widths under ``--budget``; prints the finalists
    with their certified profiles.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .families import FAMILIES

__all__ = ["add_design_commands"]

_PROFILE_JSON = (
    "JSON keys: architecture ({tree, rank, dim, mixed_with, mixture_nodes}), family, "
    "summary ({n_sets, n_computed, n_certified, n_full, log2_lower, log2_upper, histogram, "
    "seconds}), records (list of {I, lower, upper, certified}); interrupted (bool)."
)
_DESIGN_JSON = (
    "JSON keys: search, method (dilations: exhaustive or hill climb), objective, index_sets, "
    "n_screened, proven_best, candidates (list, best first, of {dilations | mixture_nodes | "
    "widths and parameters, screen_score, score, profile (records), all_certified})."
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rank", type=int, required=True, help="r, the number of channels")
    p.add_argument("--dim", type=int, required=True, help="M, the number of discretizers")
    p.add_argument("--family", choices=FAMILIES, default=None, help="the index sets")
    p.add_argument("--max-size", type=int, default=None, help="'all': largest min(|I|, |Ic|)")
    p.add_argument("--n-random", type=int, default=64, help="'random': how many sets")
    p.add_argument("--seed", type=int, default=None, help="seed of witnesses and random sets")
    p.add_argument("--jobs", type=int, default=None, help="local worker processes")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def add_design_commands(sub: Any) -> None:
    """Add the ``profile`` and ``design`` subcommands to the parser's subparsers."""
    from .cli import _int_list

    p = sub.add_parser(
        "profile",
        help="certified generic ranks over a family of index sets",
        description=__doc__,
        epilog=_PROFILE_JSON,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--dilations", type=_int_list, help="dilations, layer 1 first, e.g. 2,1,8,4")
    g.add_argument("--nested", help='nested tuples of modes, e.g. "((0,1),(2,3))"')
    _common(p)
    p.add_argument("--mixed-with", help="the second network's dilations: a mixed decomposition")
    p.add_argument("--mix-depth", type=int, help="interconnect at common nodes of this depth")
    p.add_argument("--results", help="JSON-lines results file: written as it goes, resumed")
    p.add_argument("--show", type=int, default=40, help="list the sets when at most this many")
    p.add_argument("--plot", help="save a plot of the profile to this file (matplotlib)")
    p.set_defaults(run=_cmd_profile)

    d = sub.add_parser(
        "design",
        help="search dilation orders, mixture sets or widths for an objective",
        description=__doc__,
        epilog=_DESIGN_JSON,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("--modes", type=int, required=True, help="N = 2^L inputs")
    _common(d)
    d.add_argument("--objective", choices=("min", "mean"), default="mean", help="of log2 ranks")
    d.add_argument("--search", choices=("dilations", "mixtures", "widths"), default="dilations")
    d.add_argument("--budget", type=int, help="widths: the parameter budget")
    d.add_argument("--top", type=int, default=3, help="finalists to certify")
    d.add_argument("--swap-k", type=int, default=2, help="mixtures: T_bar is the k-swapped tree")
    d.set_defaults(run=_cmd_design)


def _say(args: argparse.Namespace, command: str) -> Any:
    """The command line's progress: mtd's reporter, on (a bar on a terminal, else lines)."""
    from ._progress import for_terminal

    if args.json:
        return None
    return for_terminal(f"mtd {command}: ")


def _cmd_profile(args: argparse.Namespace) -> int:
    from .cli import _int_list, _parse_tree
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .hybrids import common_interior
    from .profiles import rank_profile

    tree = _parse_tree(args.dilations, args.nested, "profile")
    arch: dict[str, Any] = {"tree": tree.to_nested(), "rank": args.rank, "dim": args.dim}
    if args.mixed_with is None:
        model: Any = TreeDecomposition.random(tree, M=args.dim, r=args.rank, seed=0)
    else:
        text = args.mixed_with
        other = (
            _parse_tree(None, text, "profile")
            if "(" in text
            else _parse_tree(_int_list(text), None, "profile")
        )
        common = common_interior(tree, other)
        mix = [n for n in common if args.mix_depth is not None and tree.depth(n) == args.mix_depth]
        arch.update(mixed_with=other.to_nested(), mixture_nodes=[sorted(n) for n in mix])
        model = MixedDecomposition.random(tree, other, mix, M=args.dim, r=args.rank, seed=0)
    family = args.family or "all"
    try:
        prof = rank_profile(
            model,
            family,
            seed=args.seed,
            max_size=args.max_size,
            n_random=args.n_random,
            n_jobs=args.jobs,
            results=args.results,
            progress=_say(args, "profile") or False,
        )
    except KeyboardInterrupt:
        where = f"; finished sets are in {args.results}" if args.results else ""
        print(f"mtd profile: interrupted{where}", file=sys.stderr)
        return 130
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .plot import profiles

        ax = profiles({"architecture": prof})
        ax.figure.savefig(args.plot, bbox_inches="tight")
    if args.json:
        recs = [{**r, "I": list(r["I"])} for r in prof.to_records()]
        out = {"architecture": arch, "family": family, "summary": prof.summary(), "records": recs}
        print(json.dumps({**out, "interrupted": False}))
        return 0
    print(repr(prof))
    if len(prof) <= args.show:
        print()
        print(f"{'I':<40} {'lower':>10} {'upper':>10}  certified")
        for r in prof.to_records():
            modes = "{" + ",".join(map(str, r["I"])) + "}"
            print(f"{modes:<40} {r['lower']:>10} {r['upper']:>10}  {r['certified']}")
    return 0


def _cmd_design(args: argparse.Namespace) -> int:
    from . import design
    from .errors import InvalidArgumentError
    from .trees import ModeTree

    N = args.modes
    L = N.bit_length() - 1
    if N < 2 or 2**L != N:
        raise InvalidArgumentError(f"--modes must be a power of 2 (N = 2^L); got {N}")
    family = args.family or "interleaved"
    common = {
        "index_sets": family,
        "objective": args.objective,
        "top": args.top,
        "seed": args.seed,
        "n_jobs": args.jobs,
    }
    try:
        if args.search == "dilations":
            res = design.search_dilations(L, r=args.rank, M=args.dim, **common)
        elif args.search == "mixtures":
            T, Tb = ModeTree.baseline(L), ModeTree.swapped(L, args.swap_k)
            res = design.search_mixtures(T, Tb, r=args.rank, M=args.dim, **common)
        else:
            if args.budget is None:
                raise InvalidArgumentError("--search widths needs --budget (parameters)")
            res = design.allocate_widths(
                ModeTree.baseline(L), M=args.dim, budget=args.budget, **common
            )
    except KeyboardInterrupt:
        print("mtd design: interrupted before the finalists were certified", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps({"search": args.search, **res.to_dict()}, default=str))
        return 0
    print(repr(res))
    for i, c in enumerate(res.candidates):
        assert c.profile is not None
        s = c.profile.summary()
        print(
            f"  {i + 1}: log2 ranks min {s['log2_lower']['min']:g}, mean "
            f"{s['log2_lower']['mean']:.3g}; {s['n_certified']}/{s['n_sets']} certified"
        )
    return 0
