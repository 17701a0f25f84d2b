"""The mtd profile and mtd design commands."""

import json

import pytest

from mtd.cli import main


def test_profile_json(capsys):
    assert (
        main(
            [
                "profile",
                "--dilations",
                "1,2,4",
                "--rank",
                "2",
                "--dim",
                "2",
                "--family",
                "interleaved",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [r["I"] for r in out["records"]] == [[0, 2, 4, 6], [0, 1, 4, 5], [0, 1, 2, 3]]
    # Theorem 7's bounds meet on these sets (baseline tree, r = M = 2): 2^4, 2^2, 1
    assert [r["upper"] for r in out["records"]] == [16, 4, 1]
    assert all(r["certified"] for r in out["records"])
    assert out["summary"]["n_sets"] == 3 and out["architecture"]["rank"] == 2


def test_profile_table_and_mixed(capsys, tmp_path):
    path = tmp_path / "p.jsonl"
    assert (
        main(
            [
                "profile",
                "--dilations",
                "1,2,4",
                "--mixed-with",
                "2,1,4",
                "--mix-depth",
                "1",
                "--rank",
                "2",
                "--dim",
                "2",
                "--family",
                "tiles",
                "--results",
                str(path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "RankProfile(14 index sets of 8 modes" in out and "certified" in out
    assert path.read_text().startswith('{"mtd_sweep": 1')


def test_design_json_and_usage_errors(capsys):
    assert (
        main(
            [
                "design",
                "--modes",
                "8",
                "--rank",
                "2",
                "--dim",
                "2",
                "--family",
                "contiguous",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["search"] == "dilations" and out["n_screened"] == 6
    assert out["candidates"][0]["dilations"][0] == 4 and out["candidates"][0]["all_certified"]
    assert main(["design", "--modes", "6", "--rank", "2", "--dim", "2"]) == 2
    assert "power of 2" in capsys.readouterr().err
    assert main(["design", "--modes", "8", "--rank", "2", "--dim", "2", "--search", "widths"]) == 2
    assert "--budget" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["profile", "--rank", "2", "--dim", "2"])


def test_design_widths(capsys):
    assert (
        main(
            [
                "design",
                "--modes",
                "8",
                "--rank",
                "2",
                "--dim",
                "2",
                "--search",
                "widths",
                "--budget",
                "60",
                "--family",
                "all",
            ]
        )
        == 0
    )
    assert "widths={1: 2, 2: 2}, parameters=52" in capsys.readouterr().out
