"""The `mtd rank` command."""

import json

import pytest

from mtd.cli import main


def test_rank_text(capsys):
    # the theory page, §5: baseline N = 8, I = {0,1,2}: generic rank r (Theorem 7: r and r²)
    assert (
        main(["rank", "--dilations", "1,2,4", "--modes", "0,1,2", "--rank", "3", "--dim", "3"]) == 0
    )
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "generic rank of [[A]]_I, I = {0,1,2}, 8 modes, output 0"
    assert lines[1] == (
        "  lower      3  (structural witness: a Kronecker product of identity blocks)"
    )
    assert lines[2].startswith("  upper      3  (min-cut; min-cut 3, theorem 7 9, trivial 27)")
    assert lines[3] == "  certified  yes: the generic rank is 3"
    assert lines[4] == "  method     structural"  # no random witness needed
    assert lines[5].startswith("  seconds    ")
    assert "mtd rank: upper bound 3 (min-cut)" in captured.err  # progress on stderr


def test_rank_json_mixed(capsys):
    argv = ["rank", "--dilations", "1,2,4,8", "--modes", "0,2,4,6,8,9,12,13", "--rank", "2"]
    argv += ["--dim", "2", "--mixed-with", "2,1,8,4", "--mix-depth", "2", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert captured.err == ""  # no progress with --json
    assert (out["lower"], out["upper"], out["certified"]) == (256, 256, True)
    assert out["architecture"]["mixture_nodes"] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
        [12, 13, 14, 15],
    ]
    assert "theorem 7" not in out["bounds"] and out["index_set"] == [0, 2, 4, 6, 8, 9, 12, 13]


def test_rank_probes_nested(capsys):
    # a 4-ary pooling tree over 16 modes: four split windows below the root, r^4
    nested = (
        "(" + ",".join(f"({4 * i},{4 * i + 1},{4 * i + 2},{4 * i + 3})" for i in range(4)) + ")"
    )
    argv = ["rank", "--nested", nested, "--modes", "0,5,10,15", "--rank", "2", "--dim", "2"]
    assert main([*argv, "--json", "--seed", "3", "--method", "probes"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lower"], out["upper"], out["certified"]) == (16, 16, True)
    assert out["method"] == "probes" and out["rounds"][-1][:2] == [16, 16]
    assert out["architecture"]["tree"][0] == [0, 1, 2, 3]


def test_rank_sum_of_two_networks(capsys):
    argv = ["rank", "--dilations", "1,2,4", "--modes", "0,2,4,6", "--rank", "2", "--dim", "2"]
    assert main([*argv, "--mixed-with", "((0,4),(1,5)),((2,6),(3,7))", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "mix_depth" not in out["architecture"] and out["lower"] <= out["upper"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mix-depth", "1"], "--mix-depth needs --mixed-with"),
        (["--mixed-with", "2,1,4", "--mix-depth", "5"], "no common interior node of depth 5"),
    ],
)
def test_rank_usage_errors(extra, message, capsys):
    argv = ["rank", "--dilations", "1,2,4", "--modes", "0", "--rank", "2", "--dim", "2"]
    assert main(argv + extra) == 2
    assert message in capsys.readouterr().err


def test_rank_library_errors(capsys):
    argv = ["rank", "--dilations", "1,2,4", "--modes", "0,9", "--rank", "2", "--dim", "2"]
    assert main(argv) == 2
    assert "mtd rank: error: --modes must contain modes in 0..7" in capsys.readouterr().err
    argv = ["rank", "--dilations", "1,2,4", "--modes", "0", "--rank", "3", "--dim", "2"]
    assert main([*argv, "--mixed-with", "2,1,4"]) == 2
    assert "error: --rank must be even" in capsys.readouterr().err
