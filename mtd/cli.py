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

Exit status (every command): 0 success; 1 a claim that does not hold (``verify``), or
an uncertified rank with ``--require-certified``; 2 a usage error or input mtd refuses
(named by its flag, no traceback); 130 interrupted by Ctrl-C, after printing what was
found so far; 141 the reader of the output went away (``mtd ... | head``), quietly;
3 an internal error of mtd (a bug: please report it).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ._progress import for_terminal, reporter
from .errors import InvalidArgumentError, MTDError, TensorTooLargeError
from .trees import ModeTree, format_node

__all__ = ["main", "build_parser"]

_EXIT_OK, _EXIT_CLAIM, _EXIT_USAGE, _EXIT_BUG, _EXIT_INTERRUPT, _EXIT_PIPE = 0, 1, 2, 3, 130, 141

_TREE_JSON = "JSON keys: n_modes, height, nested, nodes_by_depth, dilations (if given)."
_RANK_JSON = (
    "JSON keys: lower, upper (ints, exact however large), certified (bool: lower == upper, the "
    "generic rank is then exact), method ('probes' or 'materialized'), probes, prime, "
    "seconds, upper_source ('trivial', 'theorem 7' or 'min-cut'), bounds ({min-cut, "
    "theorem 7, trivial}: ints; a bound that does not apply is left out), index_set, "
    "n_modes, output, rounds ([probes, rank, seconds forming, seconds ranking] per probe "
    "round), architecture ({tree, rank, dim; with --mixed-with also mixed_with and "
    "mixture_nodes, and mix_depth when given}).  Exit 1 with --require-certified when the "
    "rank is not certified."
)
_VERIFY_JSON = (
    "JSON keys: all_hold (bool); checks (list of {claim, setting, expected, measured, holds, "
    "verdict, seconds, details}); not_yet_checked (list of str)."
)
_GAP_JSON = (
    "JSON keys: L, k, r, n_modes, I, exponent_T, exponent_Tbar, exponent_H, bounds_meet, "
    "rank_T, rank_Tbar, rank_H_half_size (always strings: the decimal digits, or 'b^e' "
    "when the number has more than 4000 digits), exponent_ratio (a fraction string), "
    "exponent_ratio_float, channels_needed, channels_needed_sum.  In text, ranks of more "
    "than 60 digits are printed as b^e with their number of digits."
)

# Library argument names -> the flags that set them, per command: errors name flags.
_FLAGS: dict[str, dict[str, str]] = {
    "tree": {"dilations": "--dilations"},
    "rank": {
        "I": "--modes",
        "r": "--rank",
        "M": "--dim",
        "output": "--output",
        "seed": "--seed",
        "max_probes": "--max-probes",
        "dilations": "--dilations",
        "method": "--method",
    },
    "gap": {"L": "--layers", "k": "--k", "r": "--rank"},
}


class _UsageError(InvalidArgumentError):
    """A command-line usage error (exit 2), already phrased in terms of flags."""


class _State:
    """What a running command found so far, printed if it is interrupted."""

    def __init__(self) -> None:
        self.partial: list[str] = []


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints such as 2,1,8,4; got {text!r}"
        ) from None


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an int >= {minimum}; got {text!r}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}; got {value}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mtd`` console script."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="mtd",
        description="Mode trees, mixed tensor decompositions and trustworthy matricization ranks.",
        epilog="Exit status: 0 success, 1 a claim fails (or --require-certified is not met), "
        "2 usage error, 130 interrupted (after printing what was found), 141 output pipe "
        "closed, 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"mtd {__version__}")
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
    v.set_defaults(handler=_cmd_verify)

    t = sub.add_parser(
        "tree", help="draw a mode tree and list its nodes by depth", epilog=_TREE_JSON
    )
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--dilations", type=_int_list, help="dilations, layer 1 first, e.g. 2,1,8,4")
    g.add_argument("--nested", help='nested tuples of modes, e.g. "((0,1),(2,3))"')
    t.add_argument("--json", action="store_true", help="print one JSON object")
    t.set_defaults(handler=_cmd_tree)

    k = sub.add_parser(
        "rank",
        help="certified bounds on the generic rank of [[A]]_I for an architecture",
        description="Bound (and where possible certify) the generic rank of [[A]]_I: a "
        "lower bound from an exact witness with random weights (modulo a prime), an "
        "upper bound from the structure (min-cut, Theorem 7, trivial).  Warns first when "
        "the upper bound is beyond what the probes can certify.  Ctrl-C prints the best "
        "bounds found so far.",
        epilog=_RANK_JSON,
    )
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--dilations", type=_int_list, help="dilations, layer 1 first, e.g. 2,1,8,4")
    g.add_argument("--nested", help='nested tuples of modes, e.g. "((0,1),(2,3))"')
    k.add_argument("--modes", type=_int_list, required=True, help="the index set I, e.g. 0,2,5")
    k.add_argument("--rank", type=_int_at_least(1), required=True, help="r, the number of channels")
    k.add_argument(
        "--dim", type=_int_at_least(1), required=True, help="M, the number of discretizers"
    )
    k.add_argument(
        "--mixed-with",
        help="the second network's dilations (or nested tuples): a mixed decomposition",
    )
    k.add_argument(
        "--mix-depth",
        type=_int_at_least(0),
        help="interconnect at the nodes of this depth common to both trees (default: none)",
    )
    k.add_argument("--output", type=_int_at_least(0), default=0, help="which output y (default 0)")
    k.add_argument("--seed", type=_int_at_least(0), default=None, help="seed of the random witness")
    k.add_argument(
        "--max-probes", type=_int_at_least(1), default=None, help="cap on the probe matrix side"
    )
    k.add_argument(
        "--method",
        choices=("auto", "structural", "probes", "materialize"),
        default="auto",
        help="witness: structural (tree and mixed decompositions), probe matrices, the "
        "materialized tensor, or auto",
    )
    k.add_argument(
        "--require-certified",
        action="store_true",
        help="exit 1 when the rank is not certified (lower < upper)",
    )
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(handler=_cmd_rank)

    gp = sub.add_parser(
        "gap",
        help="the separating example and Corollary 8: channels a single network needs",
        epilog=_GAP_JSON,
    )
    gp.add_argument(
        "--layers", type=_int_at_least(2), required=True, help="L (N = 2^L modes), L >= k + 1"
    )
    gp.add_argument("--k", type=_int_at_least(1), required=True, help="the swap block size k")
    gp.add_argument(
        "--rank", type=_int_at_least(2), required=True, help="r, the mixed network's channels"
    )
    gp.add_argument("--json", action="store_true", help="print one JSON object")
    gp.set_defaults(handler=_cmd_gap)

    from ._design_cli import add_design_commands
    from .experiments.cli import add_experiment_parser

    add_design_commands(sub)  # mtd profile, mtd design
    add_experiment_parser(sub)
    return parser


def _power_text(base: int, exp: int) -> str:
    """``base^exp`` for a human: the digits when short, else ``b^e (D digits)``."""
    digits = 1 if base <= 1 or exp == 0 else math.floor(exp * math.log10(base)) + 1
    if digits <= 60:
        return str(base**exp)
    return f"{base}^{exp} ({digits} digits)"


def _cmd_gap(args: argparse.Namespace, state: _State) -> int:
    from .separation import gap_report

    rep = gap_report(args.layers, args.k, args.rank)
    if args.json:
        print(rep.to_json())
        return _EXIT_OK
    half = rep.r // 2
    print(f"separating example: L = {rep.L} (N = {2**rep.L}), k = {rep.k}, r = {rep.r}")
    if len(rep.I) <= 64:
        print(f"I = {{{', '.join(map(str, rep.I))}}}")
    else:
        print(f"I = {format_node(rep.I)} ({len(rep.I)} modes)")
    print(f"exponents (Theorem 7, bounds meet: {rep.bounds_meet}):")
    print(f"  T     {rep.exponent_T:>4}   rank r^{rep.exponent_T} = ", end="")
    print(_power_text(rep.r, rep.exponent_T))
    print(f"  T_bar {rep.exponent_Tbar:>4}   rank r^{rep.exponent_Tbar} = ", end="")
    print(_power_text(rep.r, rep.exponent_Tbar))
    print(
        f"  H     {rep.exponent_H:>4}   (size r/2 inside the mixed network: "
        f"(r/2)^{rep.exponent_H} = {_power_text(half, rep.exponent_H)})"
    )
    print(f"exponent ratio 2/(1+2^(1-k)) = {rep.exponent_ratio} = {float(rep.exponent_ratio):.4f}")
    print(
        f"channels a single network needs: {rep.channels_needed}; "
        f"each of the two summed: {rep.channels_needed_sum}"
    )
    return _EXIT_OK


def _parse_tree(dilations: Any, nested: Any, flag: str = "--nested") -> ModeTree:
    """A tree from ``--dilations`` (a list) or nested-tuple text; errors name ``flag``."""
    if dilations is not None:
        return ModeTree.from_dilations(dilations)
    try:
        obj = ast.literal_eval(nested)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        raise _UsageError(
            f'{flag} must be nested tuples of ints such as "((0,1),(2,3))"; got {_clip(nested)}'
        ) from None
    try:
        return ModeTree.from_nested(obj)
    except MTDError as exc:
        raise _UsageError(f"{flag}: {exc}") from None


def _clip(text: Any, limit: int = 80) -> str:
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 5] + "...'"


def _cmd_tree(args: argparse.Namespace, state: _State) -> int:
    tree = _parse_tree(args.dilations, args.nested)
    if args.json:
        out: dict[str, Any] = tree.to_dict()
        if args.dilations is not None:
            out["dilations"] = args.dilations
        print(json.dumps(out))
        return _EXIT_OK
    print(tree.draw())
    print()
    print(f"{tree.n_modes} modes, height {tree.height}")
    for d, group in enumerate(tree.nodes_by_depth()):
        print(f"depth {d}: " + " ".join(format_node(n) for n in group))
    return _EXIT_OK


def _other_tree(text: str) -> ModeTree:
    """The tree of ``--mixed-with``: dilations such as 2,1,4 or nested tuples."""
    if "(" in text or "[" in text:
        return _parse_tree(None, text, "--mixed-with")
    try:
        dilations = _int_list(text)
    except argparse.ArgumentTypeError as exc:
        raise _UsageError(f"--mixed-with: {exc}") from None
    try:
        return ModeTree.from_dilations(dilations)
    except MTDError as exc:
        raise _UsageError(f"--mixed-with: {exc}") from None


def _cmd_rank(args: argparse.Namespace, state: _State) -> int:

    tree = _parse_tree(args.dilations, args.nested)
    try:
        return _rank(args, state, tree)
    except TensorTooLargeError as exc:
        raise TensorTooLargeError(
            f"{exc} (sizes from --rank {args.rank}, --dim {args.dim})"
        ) from None


def _rank(args: argparse.Namespace, state: _State, tree: ModeTree) -> int:
    from .certify import DEFAULT_MAX_PROBES, MATERIALIZE_MAX, _short, generic_rank
    from .decompositions import MixedDecomposition, TreeDecomposition
    from .hybrids import common_interior

    arch: dict[str, Any] = {"tree": tree.to_nested(), "rank": args.rank, "dim": args.dim}
    if args.mixed_with is None:
        if args.mix_depth is not None:
            raise _UsageError("--mix-depth needs --mixed-with")
        d: Any = TreeDecomposition.random(tree, M=args.dim, r=args.rank, kind="integer", seed=0)
    else:
        other = _other_tree(args.mixed_with)
        if other.n_modes != tree.n_modes:
            raise _UsageError(
                f"--mixed-with must describe a tree over the same {tree.n_modes} modes; got "
                f"{other.n_modes} modes"
            )
        mix = []
        if args.mix_depth is not None:
            common = common_interior(tree, other)
            mix = sorted(
                (n for n in common if tree.depth(n) == args.mix_depth), key=lambda n: min(n)
            )
            if not mix:
                depths = sorted({tree.depth(n) for n in common})
                raise _UsageError(
                    f"--mix-depth: the trees have no common interior node of depth "
                    f"{args.mix_depth}; common nodes have depths {depths}"
                )
        arch.update(mixed_with=other.to_nested(), mixture_nodes=[sorted(n) for n in mix])
        if args.mix_depth is not None:
            arch["mix_depth"] = args.mix_depth
        d = MixedDecomposition.random(tree, other, mix, M=args.dim, r=args.rank, kind="integer")

    cap = DEFAULT_MAX_PROBES if args.max_probes is None else args.max_probes
    best = {"lower": "none yet", "upper": "not yet computed"}

    shown = format_node(args.modes) if len(args.modes) <= 32 else f"{len(args.modes)} modes"

    def note() -> None:
        state.partial = [
            f"best bounds so far: lower {best['lower']}, upper {best['upper']} (I = {shown})"
        ]

    def progress(message: str) -> None:
        if m := re.match(r"upper bound (\S+)", message):
            best["upper"] = m.group(1)
            if _beyond_cap(m.group(1), cap, args, tree.n_modes, MATERIALIZE_MAX):
                print(
                    f"mtd rank: warning: the upper bound {m.group(1)} is beyond the probe cap "
                    f"{cap} (--max-probes): probes can prove a lower bound of at most {cap}, "
                    f"so the rank will not be certified; raise --max-probes or use "
                    f"--method materialize on small tensors",
                    file=sys.stderr,
                    flush=True,
                )
        elif m := re.search(r"rank (\d+)", message):
            best["lower"] = m.group(1)
        note()
        if bar is not None:
            bar.say(message)
        elif callable(view):
            view(message)

    # Messages are recorded (for Ctrl-C) and shown as the terminal prefers: a bar or lines.
    view = None if args.json else for_terminal("mtd rank: ")
    bar = reporter(progress=True, desc="mtd rank") if view is True else None
    note()
    res = generic_rank(
        d,
        args.modes,
        output=args.output,
        seed=args.seed,
        max_probes=args.max_probes,
        progress=progress,
        method=args.method,
    )
    if bar is not None:
        bar.close()
    status = _EXIT_CLAIM if args.require_certified and not res.certified else _EXIT_OK
    if args.json:
        out = res.to_dict()
        out["bounds"] = {k: v for k, v in out["bounds"].items() if v is not None}
        print(json.dumps({**out, "architecture": arch}))
        return status
    modes = "{" + ",".join(map(str, res.index_set)) + "}"
    how = f"{res.probes} x {res.probes} probe matrix" if res.probes else "the whole matricization"
    lower_how = f"rank mod {res.prime} of {how}, random weights"
    if res.method == "structural":
        lower_how = "structural witness: a Kronecker product of identity blocks"
    bounds = ", ".join(f"{k} {_short(v)}" for k, v in res.bounds.items() if v is not None)
    verdict = f"yes: the generic rank is {res.lower}" if res.certified else "no"
    print(f"generic rank of [[A]]_I, I = {modes}, {res.n_modes} modes, output {res.output}")
    print(f"  lower      {res.lower}  ({lower_how})")
    print(f"  upper      {_short(res.upper)}  ({res.upper_source}; {bounds})")
    print(f"  certified  {verdict}")
    if res.probable is not None:
        print(
            f"  Monte Carlo {res.probable}  (not certified: wrong with probability <= "
            f"{res.failure_probability:.2g})"
        )
    print(f"  method     {res.method}")
    print(f"  seconds    {res.seconds:.3f}")
    return status


def _beyond_cap(upper: str, cap: int, args: argparse.Namespace, n: int, small: int) -> bool:
    """Whether probes capped at ``cap`` cannot reach the upper bound (so no certificate)."""
    if args.method == "materialize":
        return False
    big = upper.startswith("~")
    if not big and int(upper) <= cap:
        return False
    if args.method == "auto":
        # auto materializes small tensors whose probes would be large (as generic_rank does)
        size = math.prod([args.dim] * n) if n * math.log2(max(args.dim, 2)) < 64 else small + 1
        k = cap if big else min(int(upper), cap)
        return not (size <= small and 4 * k * k > size)
    return True


def _cmd_verify(args: argparse.Namespace, state: _State) -> int:
    from .theorems import NOT_YET_CHECKED, reports_to_json, reports_to_markdown, run_checks

    view = None if args.json else for_terminal("checking ")

    def lines(name: str) -> None:
        state.partial = [f"interrupted while checking {name}"]
        if callable(view):
            view(f"{name} ...")

    progress: Any = True if view is True else lines
    reports = run_checks(quick=args.quick, progress=progress)
    ok = all(r.holds for r in reports)
    if args.json:
        print(reports_to_json(reports))
    else:
        print(reports_to_markdown(reports))
        if NOT_YET_CHECKED:
            print()
            print("Not checked by mtd verify yet:")
            for item in NOT_YET_CHECKED:
                print(f"  - {item}")
        print()
        total = sum(r.seconds for r in reports)
        verdict = "all checks hold" if ok else "SOME CHECKS FAIL"
        print(f"{verdict} ({len(reports)} checks, {total:.1f} s)")
    return _EXIT_OK if ok else _EXIT_CLAIM


def _cmd_experiment(args: argparse.Namespace, state: _State) -> int:
    from .experiments.cli import run_experiment

    return run_experiment(args)


def _cmd_design_tools(args: argparse.Namespace, state: _State) -> int:
    # mtd profile / mtd design: their parsers name the function (mtd._design_cli)
    return int(args.run(args))


_COMMANDS: dict[str, Callable[[argparse.Namespace, _State], int]] = {
    "verify": _cmd_verify,
    "tree": _cmd_tree,
    "rank": _cmd_rank,
    "gap": _cmd_gap,
    "experiment": _cmd_experiment,
    "profile": _cmd_design_tools,
    "design": _cmd_design_tools,
}
"""Subcommand -> function; a parser may instead ``set_defaults(handler=...)``."""


def _flagify(message: str, command: str) -> str:
    """Name the flag instead of the library argument at the start of an error message."""
    for name, flag in _FLAGS.get(command, {}).items():
        if re.match(rf"{re.escape(name)}(\b|\[)", message):
            return flag + message[len(name) :]
    return message


def _quiet_stdout() -> None:
    # The reader went away: point stdout at /dev/null so the final flush cannot fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _run(args: argparse.Namespace) -> int:
    """Run one parsed command inside the single error-handling wrapper of the CLI."""
    command = args.command
    handler = getattr(args, "handler", None) or _COMMANDS[command]
    state = _State()
    try:
        status = handler(args, state)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        for line in state.partial:
            print(f"mtd {command}: {line}", file=sys.stderr)
        print(f"mtd {command}: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPT
    except BrokenPipeError:
        _quiet_stdout()
        return _EXIT_PIPE
    except MTDError as exc:
        print(f"mtd {command}: error: {_flagify(str(exc), command)}", file=sys.stderr)
        return _EXIT_USAGE
    except MemoryError:
        print(
            f"mtd {command}: error: out of memory; try smaller sizes (mtd refuses tensors over "
            f"its memory limit, MTD_MAX_BYTES, but this allocation was not foreseen)",
            file=sys.stderr,
        )
        return _EXIT_USAGE
    except RecursionError:
        print(f"mtd {command}: error: the input is nested too deeply", file=sys.stderr)
        return _EXIT_USAGE
    except Exception as exc:  # a bug: report it without a traceback
        print(
            f"mtd {command}: internal error ({type(exc).__name__}: {exc}); this is a bug in "
            f"mtd, please report it with the command line",
            file=sys.stderr,
        )
        return _EXIT_BUG


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mtd`` command line; return the exit status.

    Usage errors found by the parser exit with status 2 (``SystemExit``), ``--help`` and
    ``--version`` with 0; everything else returns the status documented in the module.
    """
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return _EXIT_INTERRUPT
    # JSON integers are exact however long (text output abbreviates them instead).
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return _run(args)
    finally:
        sys.set_int_max_str_digits(old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
