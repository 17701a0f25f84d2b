"""The subprocess of the fuzz suite (tests/test_fuzz.py): runs cases under memory caps.

It reads one JSON case per line on stdin and answers one JSON line on stdout.  A case is
``{"api": expr}`` (a Python expression over ``mtd``, ``np`` and a few fixtures) or
``{"cli": argv}`` (arguments of ``mtd``).  Started with an address-space limit
(``resource.RLIMIT_AS``) and a low mtd memory limit, so that an allocation over the limit
kills the case (a raw ``MemoryError``) instead of the machine; the parent enforces the time
cap and restarts the worker when it dies or hangs.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys


def _setup() -> dict:
    import numpy as np

    import mtd

    T = mtd.ModeTree.baseline(2)
    Tb = mtd.ModeTree.swapped(2, 2)
    d = mtd.TreeDecomposition.random(T, M=2, r=2, kind="integer", seed=0)
    return {
        "mtd": mtd,
        "np": np,
        "T": T,
        "Tb": Tb,
        "d": d,
        "inf": float("inf"),
        "nan": float("nan"),
    }


def _answer(case: dict, ns: dict) -> dict:
    if "cli" in case:
        from mtd.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(case["cli"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        return {
            "status": "exit",
            "code": code,
            "stdout": out.getvalue()[-2000:],
            "stderr": err.getvalue()[-2000:],
        }
    try:
        value = eval(case["api"], dict(ns))  # noqa: S307 - the suite's own expressions
    except BaseException as exc:  # noqa: BLE001 - report every outcome to the parent
        return {
            "status": "error",
            "mro": [c.__name__ for c in type(exc).__mro__],
            "module": type(exc).__module__,
            "message": str(exc)[:2000],
        }
    return {"status": "ok", "repr": repr(value)[:500]}


def main() -> None:
    cap = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    ns = _setup()
    for line in sys.stdin:
        sys.stdout.write(json.dumps(_answer(json.loads(line), ns)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
