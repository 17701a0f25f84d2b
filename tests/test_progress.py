"""Progress reports: off by default, callables keep their meaning, True gives a bar or lines."""

from __future__ import annotations

import sys

import pytest

import mtd
import mtd.theorems as theorems
from mtd import _progress
from mtd.theorems import CheckReport


def _fake_checks():
    def ok(**_):
        return CheckReport("ok", "", "", "", True)

    return {"first": ok, "second": ok}


@pytest.fixture
def fake_checks(monkeypatch):
    monkeypatch.setattr(theorems, "CHECKS", _fake_checks())


def test_run_checks_callable_semantics_kept(fake_checks, capsys):
    seen = []
    reps = theorems.run_checks(progress=seen.append)
    assert seen == ["first", "second"] and len(reps) == 2
    assert capsys.readouterr().err == ""


def test_off_by_default(fake_checks, capsys):
    theorems.run_checks()
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    mtd.generic_rank(d, [0, 2], seed=0)
    assert capsys.readouterr().err == ""


def test_true_without_terminal_prints_lines(fake_checks, capsys):
    theorems.run_checks(progress=True)  # stderr is captured: not a terminal
    assert capsys.readouterr().err.splitlines() == ["mtd verify: first", "mtd verify: second"]


def test_true_on_terminal_draws_a_bar(fake_checks, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    theorems.run_checks(progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "mtd verify" in err


def test_no_tqdm_falls_back_to_lines(fake_checks, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(_progress, "have_tqdm", lambda: False)
    theorems.run_checks(progress=True)
    assert capsys.readouterr().err.splitlines() == ["mtd verify: first", "mtd verify: second"]


def test_generic_rank_messages(capsys):
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(4), M=2, r=2, seed=0)
    I = [0, 2, 4, 6, 8, 9, 12, 13]
    seen = []
    res = mtd.generic_rank(d, I, seed=1, method="probes", progress=seen.append)
    assert seen[0] == "upper bound 64 (theorem 7)"
    rounds = [m for m in seen[1:] if "probes: rank" in m]
    assert len(rounds) == len(res.rounds) and rounds[-1].startswith("64 probes: rank 64")
    mtd.generic_rank(d, I, seed=1, method="probes", progress=True)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "generic_rank: upper bound 64 (theorem 7)" and len(err) == len(seen)


def test_bad_progress_value():
    d = mtd.TreeDecomposition.random(mtd.ModeTree.baseline(2), M=2, r=2, seed=0)
    with pytest.raises(TypeError, match="progress must be None, a bool or a callable"):
        mtd.generic_rank(d, [0, 2], progress="yes")


def test_cli_progress_is_text_off_a_terminal(capsys):
    say = _progress.for_terminal("mtd rank: ")
    assert callable(say)
    say("hello")
    assert capsys.readouterr().err == "mtd rank: hello\n"
