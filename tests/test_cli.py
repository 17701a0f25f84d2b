"""The mtd command line."""

import json
import subprocess
import sys

from mtd.cli import main


def test_tree_json(capsys):
    assert main(["tree", "--dilations", "2,1,8,4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_modes"] == 16 and out["height"] == 4 and out["dilations"] == [2, 1, 8, 4]
    assert out["nodes_by_depth"][1] == [[0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]]
    assert len(out["nodes_by_depth"][4]) == 16


def test_tree_text(capsys):
    assert main(["tree", "--nested", "((0,1),(2,3))"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("{0..3}\n├── {0,1}")
    assert "depth 1: {0,1} {2,3}" in out


def test_tree_errors(capsys):
    assert main(["tree", "--dilations", "1,1"]) == 2
    assert "permutation of 1, 2" in capsys.readouterr().err
    assert main(["tree", "--nested", "((0,1),(1,2))"]) == 2
    assert "appears more than once" in capsys.readouterr().err


def test_verify_quick_json(capsys):
    assert main(["verify", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["all_hold"] is True
    assert {c["verdict"] for c in out["checks"]} == {"holds"}
    # honest about what it does not check: the list is part of every report
    from mtd.theorems import NOT_YET_CHECKED

    assert out["not_yet_checked"] == list(NOT_YET_CHECKED)


def test_console_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "mtd", "tree", "--dilations", "1,2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "{0..3}" in proc.stdout


def test_gap_json(capsys):
    assert main(["gap", "--layers", "5", "--k", "4", "--rank", "128", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the theory page, §5: exponents N/4 + N/2^(k+1) = 9 (T, T̄) and N/2 = 16 (H) for N = 32, k = 4;
    # "for k = 4 and r = 128 the bound is about 1625"
    assert (out["exponent_T"], out["exponent_Tbar"], out["exponent_H"]) == (9, 9, 16)
    assert out["bounds_meet"] is True and out["exponent_ratio"] == "16/9"
    assert abs(out["channels_needed"] - 64 ** (16 / 9)) < 1


def test_gap_text_and_errors(capsys):
    assert main(["gap", "--layers", "4", "--k", "2", "--rank", "4"]) == 0
    assert "I = {0, 2, 4, 6, 8, 9, 12, 13}" in capsys.readouterr().out
    assert main(["gap", "--layers", "3", "--k", "3", "--rank", "4"]) == 2
    assert "L >= k + 1" in capsys.readouterr().err
    assert main(["gap", "--layers", "4", "--k", "2", "--rank", "5"]) == 2
    assert "error: --rank must be even" in capsys.readouterr().err
