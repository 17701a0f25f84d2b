"""The ``mtd experiment`` command: parsing and printing only; the work is in the library.

``mtd experiment interconnect --dataset {digits,japanese_vowels} [--quick] [--seeds S]
[--json] [--out DIR]``
    :func:`mtd.experiments.interconnect_experiment`; prints train / test accuracy
    (mean ± std over seeds) and the parameter count per model, writes
    ``interconnect.png`` and ``interconnect.json``.
``mtd experiment dilations --orders 1,2,4,… 2,1,8,… [--dataset …] [--seeds S] …``
    :func:`mtd.experiments.dilation_experiment`: single networks of the given dilation
    orders under the same protocol; writes ``dilations.png`` and ``dilations.json``.
``mtd experiment approximation [--quick] [--json] [--out DIR] [--seed S] [--workers W]``
    :func:`mtd.experiments.approximation_experiment`; prints the table of best relative
    errors (or one JSON object) and writes ``approximation.png`` (and
    ``approximation.json``) into ``DIR`` (default: the current directory).  The plot is
    skipped with a message when matplotlib is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .interconnect import DATASETS

__all__ = ["add_experiment_parser", "run_experiment"]

_APPROX_JSON = (
    "JSON keys: settings ({L, N, M, r, mix_level, mixture_nodes, sizes, restarts, max_iter, "
    "seed, threshold, method, lm_max_params, workers, I, rank_one_floor, floor}), errors "
    "({model: {r': [error per start]}}), runs ({model: {r': [{seed, error, als, lm, stop, "
    "params, seconds} per start]}}), best ({model: {r': best error}}), seconds, plot (path "
    "or null)."
)


_INTER_JSON = (
    "JSON keys: settings ({dataset, T, L, channels, g, epochs, seeds, batch_size, "
    "learning_rate, weight_decay, n_train, n_test, split, dilations, mix_layers, split_seed} "
    "for interconnect; orders instead of dilations, mix_layers, split_seed for dilations), "
    "models ({name: "
    "{n_parameters, train, test (per seed), train_mean, train_std, test_mean, test_std}}), "
    "seconds, plot (path or null)."
)


_QUICK = {"epochs": 3, "hidden": 8}


def _interconnect(args: argparse.Namespace) -> int:
    from ..errors import MissingDependencyError
    from .interconnect import dilation_experiment, interconnect_experiment, plot_interconnect

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    kw: dict[str, Any] = dict(_QUICK) if args.quick else {}
    if args.epochs is not None:
        kw["epochs"] = args.epochs
    if args.hidden is not None:
        kw["hidden"] = args.hidden
    name = args.experiment
    try:
        if name == "dilations":
            res = dilation_experiment(
                args.orders, dataset=args.dataset, seeds=args.seeds, progress=progress, **kw
            )
        else:
            res = interconnect_experiment(
                dataset=args.dataset, seeds=args.seeds, progress=progress, **kw
            )
    except MissingDependencyError as exc:
        print(f"mtd experiment {name}: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    data = res.to_dict()
    plot: str | None = str(args.out / f"{name}.png")
    try:
        plot_interconnect(res, plot)
    except ImportError:
        print("matplotlib is not installed: plot skipped", file=sys.stderr)
        plot = None
    data["plot"] = plot
    (args.out / f"{name}.json").write_text(json.dumps(data, indent=1))
    if args.json:
        print(json.dumps(data))
    else:
        print(res.table())
        print(f"({res.seconds:.0f} s; plot: {plot or 'skipped'})")
    return 0


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints; got {text!r}") from None


def add_experiment_parser(sub: Any) -> None:
    """Register ``mtd experiment …`` on the top-level subparsers ``sub``."""
    e = sub.add_parser("experiment", help="run one of the learning-side experiments")
    esub = e.add_subparsers(dest="experiment", required=True)
    a = esub.add_parser(
        "approximation",
        help="best-fit error of T, T_bar, T + T_bar and the mixed decomposition vs. size",
        epilog=_APPROX_JSON,
    )
    a.add_argument("--quick", action="store_true", help="N = 8, sizes 2,3,4,6, 2 starts")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--seed", type=int, default=0, help="seed of the target and the starts")
    a.add_argument("--out", type=Path, default=Path("."), help="directory for the plot/JSON")
    a.add_argument("--sizes", type=_ints, help="sizes r' to fit, e.g. 2,4,6")
    a.add_argument(
        "--max-iter", type=int, help="budget per start: ALS sweeps + LM steps (default 15)"
    )
    a.add_argument("--restarts", type=int, help="random starts per model and size (default 3)")
    a.add_argument(
        "--workers", type=int, default=2, help="processes running the starts (default 2)"
    )
    a.add_argument(
        "--lm-max-params",
        type=int,
        help="largest model polished by Levenberg-Marquardt (default 1000 weights)",
    )

    c = esub.add_parser(
        "interconnect",
        help="the Fig. 7 protocol: accuracy of interconnected dilated networks by k",
        epilog=_INTER_JSON,
    )
    d = esub.add_parser(
        "dilations",
        help="accuracy of single dilated networks of given dilation orders (same protocol)",
        epilog=_INTER_JSON,
    )
    d.add_argument(
        "--orders",
        type=_ints,
        nargs="+",
        required=True,
        help="dilation orders, each comma-separated, e.g. 1,2,4,8,16,32 2,1,8,4,32,16",
    )
    for p in (c, d):
        p.add_argument(
            "--dataset",
            choices=DATASETS,
            default="digits",
            help="digits (T = 64, extra learn) or japanese_vowels (T = 32, extra speech)",
        )
        p.add_argument("--quick", action="store_true", help="3 epochs, 8 hidden channels")
        p.add_argument("--seeds", type=int, default=5, help="training seeds (default 5)")
        p.add_argument("--epochs", type=int, help="epochs per run (default 30; 3 with --quick)")
        p.add_argument("--hidden", type=int, help="hidden channels, even (default 16; 8 quick)")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--out", type=Path, default=Path("."), help="directory for the plot/JSON")


def run_experiment(args: argparse.Namespace) -> int:
    """Run the experiment named in ``args``; return the exit status."""
    if args.experiment in ("interconnect", "dilations"):
        return _interconnect(args)
    from ..errors import MTDError
    from .approximation import approximation_experiment, plot_approximation

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    kw: dict[str, Any] = (
        {"L": 3, "M": 2, "r": 4, "sizes": (2, 3, 4, 6), "restarts": 2, "max_iter": 30}
        if args.quick
        else {}
    )
    for name in ("sizes", "max_iter", "restarts", "lm_max_params"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    try:
        res = approximation_experiment(
            seed=args.seed, workers=args.workers, progress=progress, **kw
        )
    except MTDError as exc:
        print(f"mtd experiment approximation: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    data = res.to_dict()
    plot: str | None = str(args.out / "approximation.png")
    try:
        plot_approximation(res, plot)
    except ImportError:
        print("matplotlib is not installed: plot skipped", file=sys.stderr)
        plot = None
    data["plot"] = plot
    (args.out / "approximation.json").write_text(json.dumps(data, indent=1))
    if args.json:
        print(json.dumps(data))
    else:
        print(res.table())
        print(f"({res.seconds:.0f} s; plot: {plot or 'skipped'})")
    return 0
