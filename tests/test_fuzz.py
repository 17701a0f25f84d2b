"""Fuzz suite: bad input at the public API and the CLI never hangs, crashes or over-allocates.

Hypothesis draws bad arguments for the public entry points and bad command lines; every
case runs in a subprocess (tests/fuzz_worker.py) under an address-space cap of 3 GiB, with
mtd's memory limit at 512 MiB and a time cap per case.  Each case must end in an mtd error
that subclasses the matching builtin and names the argument (the flag, on the command
line) -- never a hang, a crash, a raw exception, a traceback or a silent acceptance.

Marker ``fuzz``: skipped unless selected, ``python -m pytest -m fuzz tests/test_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parent.parent
CAP = 3 * 2**30
LIMIT = 512 * 2**20
TIMEOUT = 30.0  # seconds per case, generous: the machine may be shared
EXAMPLES = 60  # per family (small families stop when exhausted); 500+ cases in all


class Worker:
    """A capped subprocess that evaluates cases; restarted after a hang or a crash."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.cases = 0

    def start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=str(ROOT), MTD_MAX_BYTES=str(LIMIT))
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fuzz_worker.py"), str(CAP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(ROOT),
        )
        return self.proc

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        import selectors

        self.cases += 1
        proc = self.proc if self.proc and self.proc.poll() is None else self.start()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(case) + "\n")
        proc.stdin.flush()
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=TIMEOUT)
        sel.close()
        if not ready:
            self.stop()
            return {"status": "hang"}
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            self.stop()
            return {"status": "crash", "stderr": err[-2000:]}
        return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.stop()


BUILTIN = {"value": "ValueError", "type": "TypeError", "memory": "MemoryError"}


def check_api(worker: Worker, expr: str, arg: str, kinds: tuple[str, ...]) -> None:
    """``expr`` must raise an mtd error subclassing one of ``kinds`` and naming ``arg``."""
    out = worker.run({"api": expr})
    assert out["status"] == "error", f"{expr}: {out}"
    mro = out["mro"]
    assert "MTDError" in mro, f"{expr}: raw {mro[0]}: {out['message']}"
    assert any(BUILTIN[k] in mro for k in kinds), f"{expr}: {mro[0]} is not one of {kinds}"
    assert arg in out["message"], f"{expr}: message does not name {arg!r}: {out['message']}"


def check_cli(worker: Worker, argv: list[str], flag: str) -> None:
    """``mtd argv`` must exit 2 with a one-line error naming ``flag`` and no traceback."""
    out = worker.run({"cli": argv})
    assert out["status"] == "exit", f"{argv}: {out}"
    assert out["code"] == 2, f"{argv}: exit {out['code']}: {out['stderr']}"
    assert "Traceback" not in out["stderr"], f"{argv}: {out['stderr']}"
    assert flag in out["stderr"], f"{argv}: error does not name {flag}: {out['stderr']}"


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------------- bad values
bad_type = st.sampled_from(["'3'", "3.0", "None", "[3]", "True", "1j", "b'3'", "nan", "{}"])
negative = st.integers(-(10**20), 0).map(str)
huge = st.integers(10**7, 10**30).map(str)


@FUZZ
@given(
    ctor=st.sampled_from(["linear", "star", "balanced", "random"]),
    value=st.one_of(bad_type, negative, huge),
)
def test_tree_sizes(worker, ctor, value):
    kinds = ("type",) if not value.lstrip("-").isdigit() else ("value", "memory")
    arg = "N" if kinds == ("type",) or int(value) < 1 else "N = "
    check_api(worker, f"mtd.ModeTree.{ctor}({value})", arg, kinds)


@FUZZ
@given(
    ctor=st.sampled_from(["baseline({})", "swapped({}, 1)", "from_dilations([1] * {})"]),
    value=st.one_of(st.integers(-(10**6), 0).map(str), st.integers(27, 10**6).map(str)),
)
def test_layer_counts(worker, ctor, value):
    n = int(value)
    if n < 1:
        arg = "dilations" if ctor.startswith("from_") else "L"
        kinds: tuple[str, ...] = ("value",)
    else:
        arg, kinds = "L = ", ("memory",)
    check_api(worker, f"mtd.ModeTree.{ctor.format(value)}", arg, kinds)


junk = st.recursive(
    st.one_of(
        st.integers(-5, 8).map(str), st.sampled_from(["'a'", "None", "1.5", "()", "[]", "{0}"])
    ),
    lambda kids: st.lists(kids, min_size=0, max_size=4).map(
        lambda xs: "(" + ", ".join(xs) + ",)" if xs else "()"
    ),
    max_leaves=12,
).map(str)


@FUZZ
@given(obj=junk)
def test_from_nested_junk(worker, obj):
    out = worker.run({"api": f"mtd.ModeTree.from_nested({obj})"})
    assert out["status"] in ("ok", "error"), f"{obj}: {out}"
    if out["status"] == "error":
        assert "MTDError" in out["mro"], f"{obj}: raw {out['mro'][0]}: {out['message']}"
        assert {"ValueError", "TypeError"} & set(out["mro"]), obj


@FUZZ
@given(
    value=st.sampled_from(
        [
            "None",
            "5",
            "'abc'",
            "[[1, 2]]",
            "{(0, 1): 5}",
            "{(0, 1): [0]}",
            "{(0, 1): ['a', 1]}",
            "{(0, 1): [0, 1], (0, 1, 2): [(0, 1), 2], 7: [1, 2]}",
            "{(0, 2): [0, 2]}",
            "{}",
            "{(): [0, 1]}",
            "{(0, 1): [(0,), (0, 1)]}",
            "{('x',): [0, 1]}",
        ]
    )
)
def test_from_children_junk(worker, value):
    check_api(worker, f"mtd.ModeTree.from_children({value})", "", ("value", "type"))


@FUZZ
@given(
    method=st.sampled_from(
        ["children", "parent", "depth", "node_height", "is_leaf", "leaves_under"]
    ),
    node=st.sampled_from(
        [
            "'0'",
            "'01'",
            "None",
            "1.5",
            "[0, 2]",
            "{0: 1}",
            "-1",
            "99",
            "[0, 0, 9]",
            "['a']",
            "frozenset()",
            "10**30",
        ]
    ),
)
def test_tree_nodes(worker, method, node):
    kinds = ("type",) if node in ("'0'", "'01'", "None", "1.5", "{0: 1}", "['a']") else ("value",)
    check_api(worker, f"T.{method}({node})", "node", kinds)


@FUZZ
@given(
    arg=st.sampled_from(["M", "r", "seed", "max_weight", "kind", "r_input"]),
    value=st.one_of(bad_type, negative, st.sampled_from(["2**63", "10**6", "10**9", "'cp'"])),
)
def test_random_decomposition(worker, arg, value):
    kw = {"M": "2", "r": "2", "kind": "'integer'", "seed": "0", "max_weight": "2"}
    kw[arg] = value
    call = ", ".join(f"{k}={v}" for k, v in kw.items())
    expr = f"mtd.TreeDecomposition.random(T, {call})"
    v = value.lstrip("-")
    if arg == "kind":
        kinds: tuple[str, ...] = ("value", "type")
    elif not v.replace("**", "").isdigit():
        kinds = (
            ("type",)
            if arg != "seed"
            or value in ("'3'", "3.0", "[3]", "True", "1j", "b'3'", "nan", "{}", "'cp'")
            else ("value", "type")
        )
    else:
        kinds = ("value", "memory")
    name = {
        "M": "M",
        "r": "r",
        "seed": "seed",
        "max_weight": "max_weight",
        "kind": "kind",
        "r_input": "r_input",
    }[arg]
    out = worker.run({"api": expr})
    if out["status"] == "ok":
        # large but valid: a seed, weights up to 10**9, or sizes whose arrays fit the limit
        fits = value in ("10**6", "10**9", "2**63") and not (
            (arg == "max_weight" and value == "2**63")
            or (arg in ("M", "r_input") and value == "10**9")
        )
        assert fits and arg != "r", f"{expr} was accepted: {out}"
        return
    assert "MTDError" in out["mro"], f"{expr}: raw {out['mro'][0]}: {out['message']}"
    assert any(BUILTIN[k] in out["mro"] for k in kinds + ("value", "memory")), out
    if "MemoryError" not in out["mro"]:
        assert name in out["message"], f"{expr}: {out['message']}"


@FUZZ
@given(
    mix=st.sampled_from(
        [
            "['abc']",
            "[5]",
            "'ab'",
            "[[0, 'a']]",
            "[None]",
            "[[0, 9]]",
            "[{0}]",
            "[(0, 1, 2, 3), (0, 2)]",
            "[1.5]",
        ]
    ),
)
def test_mixture_nodes(worker, mix):
    check_api(
        worker,
        f"mtd.MixedDecomposition.random(T, Tb, {mix}, M=2, r=2)",
        "mixture",
        ("value", "type"),
    )


@FUZZ
@given(
    shape=st.lists(st.integers(-3, 4), min_size=1, max_size=4),
    I=st.sampled_from(["[0]", "[9]", "'0'", "[0, 0]", "None", "[-1]", "[0.5]"]),
)
def test_matricization_shape(worker, shape, I):
    expr = f"mtd.matricization_shape({tuple(shape)!r}, {I})"
    out = worker.run({"api": expr})
    bad_shape = any(s < 0 for s in shape)
    if out["status"] == "ok":
        assert not bad_shape and I == "[0]", f"{expr} accepted: {out}"
        return
    assert "MTDError" in out["mro"], f"{expr}: raw {out['mro'][0]}: {out['message']}"
    assert ("shape" in out["message"]) or (
        "I " in out["message"] or out["message"].startswith("I")
    ), out


@FUZZ
@given(
    call=st.sampled_from(
        [
            "mtd.matricize([[1, 2], [3]], [0])",
            "mtd.matricize(np.zeros((2, 2)), {I})",
            "mtd.matrix_rank(np.eye(3), rtol={rtol})",
            "mtd.matricization_rank(np.eye(3), [0], rtol={rtol})",
            "mtd.hierarchical_svd(np.zeros((2, 2, 2, 2)), T, rtol={rtol})",
            "mtd.hierarchical_svd(np.full((2, 2, 2, 2), np.nan), T)",
            "mtd.grid_tensor(lambda X: X.sum(axis=(1, 2)), np.eye(2), 2, vectorized={vec})",
        ]
    ),
    I=st.sampled_from(["[5]", "'a'", "[0, 0]", "None"]),
    rtol=st.sampled_from(["-1", "inf", "nan", "'big'", "-1e-9"]),
    vec=st.sampled_from(["'no'", "0", "None", "'False'"]),
)
def test_numeric_entry_points(worker, call, I, rtol, vec):
    expr = call.format(I=I, rtol=rtol, vec=vec)
    arg = (
        "A"
        if "[[1, 2], [3]]" in expr or "np.nan)" in expr
        else ("I" if "{I}" in call else ("rtol" if "{rtol}" in call else "vectorized"))
    )
    check_api(worker, expr, arg, ("value", "type"))


@FUZZ
@given(
    kw=st.sampled_from(
        [
            "seed=-1",
            "seed='x'",
            "output=-1",
            "output=5",
            "max_probes=0",
            "method='probes!'",
            "max_probes=1.5",
            "seed=2**70 * -1",
        ]
    ),
)
def test_generic_rank_options(worker, kw):
    arg = kw.split("=")[0]
    check_api(worker, f"mtd.generic_rank(d, [0, 1], {kw})", arg, ("value", "type"))


@FUZZ
@given(
    channels=st.sampled_from(
        ["(2, 10**5, 10**5)", "(2, 2)", "(2, -1, 2)", "(2, 'a', 2)", "None", "(10**9, 2, 2)"]
    ),
    seed=st.sampled_from(["0", "-1", "'s'"]),
)
def test_dilated_net(worker, channels, seed):
    expr = f"mtd.DilatedConvNet([1, 2], {channels}, seed={seed})"
    out = worker.run({"api": expr})
    assert out["status"] == "error", f"{expr}: {out}"
    assert "MTDError" in out["mro"], f"{expr}: raw {out['mro'][0]}: {out['message']}"
    assert {"ValueError", "TypeError", "MemoryError"} & set(out["mro"]), out


BASE = ["rank", "--dilations", "1,2,4", "--modes", "0,1", "--rank", "2", "--dim", "2"]


@FUZZ
@given(
    flag=st.sampled_from(
        [
            "--rank",
            "--dim",
            "--seed",
            "--output",
            "--max-probes",
            "--modes",
            "--mixed-with",
            "--mix-depth",
            "--dilations",
            "--nested",
        ]
    ),
    value=st.sampled_from(
        [
            "-1",
            "0",
            "abc",
            "1.5",
            "100000",
            "1000000000",
            "9,9",
            "((0,1)",
            "2,1",
            "1,1",
            "",
            "((0,1),(1,2))",
            "[[[[",
            "1e9",
        ]
    ),
)
def test_cli_rank_flags(worker, flag, value):
    argv = list(BASE)
    if flag in ("--dilations", "--nested"):
        argv = ["rank", flag, value, "--modes", "0,1", "--rank", "2", "--dim", "2"]
    elif flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
        if flag == "--mix-depth":
            argv += ["--mixed-with", "2,1,4"]
    out = worker.run({"cli": argv})
    assert out["status"] == "exit", f"{argv}: {out}"
    assert "Traceback" not in out["stderr"], f"{argv}: {out['stderr']}"
    if out["code"] == 0:
        return  # some values are valid (e.g. --seed 0, --output 1 of 2 outputs)
    assert out["code"] == 2, f"{argv}: exit {out['code']}: {out['stderr']}"
    named = flag in out["stderr"] or (flag == "--modes" and "--modes" in out["stderr"])
    assert named or "--rank" in out["stderr"] or "--dim" in out["stderr"], (argv, out["stderr"])


@FUZZ
@given(
    argv=st.sampled_from(
        [
            ["gap", "--layers", "64", "--k", "2", "--rank", "4"],
            ["gap", "--layers", "3", "--k", "3", "--rank", "4"],
            ["gap", "--layers", "4", "--k", "2", "--rank", "5"],
            ["gap", "--layers", "x", "--k", "2", "--rank", "4"],
            ["gap", "--layers", "4", "--k", "-2", "--rank", "4"],
            ["tree", "--dilations", ",".join(str(2**i) for i in range(30))],
            ["tree", "--nested", "((0,1),(1,2))"],
            ["tree", "--nested", "(" * 500 + "0" + ")" * 500],
            ["tree", "--dilations", "a,b"],
            [
                "rank",
                "--dilations",
                "1,2",
                "--modes",
                "0",
                "--rank",
                "2",
                "--dim",
                "2",
                "--mixed-with",
                "abc",
            ],
            [
                "rank",
                "--dilations",
                "1,2",
                "--modes",
                "0",
                "--rank",
                "2",
                "--dim",
                "2",
                "--mix-depth",
                "1",
            ],
            ["nonsense"],
            [],
        ]
    ),
)
def test_cli_commands(worker, argv):
    out = worker.run({"cli": argv})
    assert out["status"] == "exit", f"{argv}: {out}"
    assert out["code"] == 2, f"{argv}: exit {out['code']}: {out['stderr']}"
    assert "Traceback" not in out["stderr"], f"{argv}: {out['stderr']}"
    assert "error" in out["stderr"], f"{argv}: {out['stderr']}"


def test_zz_at_least_500_cases(worker, request):
    """Runs last: the families above (when all selected) ran at least 500 capped cases."""
    if request.config.getoption("-k"):
        pytest.skip("a subset of the suite was selected")
    print(f"fuzz cases run: {worker.cases}")
    assert worker.cases >= 500
