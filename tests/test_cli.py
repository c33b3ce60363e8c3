"""The command line: ``python -m minicompress <command>``."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from minicompress.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices  # name -> sub-parser


def test_program_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m minicompress")
    for name in subcommands():
        assert f"\n  {name} " in out


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_subcommand_help_lists_its_options(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m minicompress {name}")
    sub = subcommands()[name]
    options = [s for a in sub._actions for s in a.option_strings]
    positionals = [a.dest for a in sub._actions if not a.option_strings]
    assert options  # every command has at least --help
    for option in options + positionals:
        assert option in out, f"{option} missing from `{name} --help`"
    for action in sub._actions:
        if action.help and action.help != argparse.SUPPRESS:
            assert action.help.split("(")[0].split()[0] in out  # each option is explained


def test_python_m_minicompress_help_in_a_fresh_interpreter():
    done = subprocess.run([sys.executable, "-m", "minicompress", "--help"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "tour" in done.stdout and done.stderr == ""


def test_no_command_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "required: command" in capsys.readouterr().err


def test_unknown_model_is_an_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--model", "resnet50"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'resnet50'" in capsys.readouterr().err


@pytest.mark.slow
def test_tour_quick_prints_the_results_table(tmp_path, capsys):
    out_json = tmp_path / "rows.json"
    assert main(["tour", "--quick", "--sections", "baseline", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    table = [[cell.strip() for cell in line.split("|")[1:-1]]
             for line in out.splitlines() if line.startswith("|")]
    header, rule, rows = table[0], table[1], table[2:]
    assert header[0] == "method" and {"params", "accuracy %"} <= set(header)
    assert set(rule[0]) == {"-"}
    assert [r[0] for r in rows] == ["ConvNet (dense fp32)", "LeNet300_100 (dense fp32)"]
    params = [r[header.index("params")] for r in rows]
    assert params == ["27210", "266610"]  # the text's ConvNet: 16*9 + 16 + 2704*10 + 10
    methods = [r[0] for r in rows]
    rows = json.loads(out_json.read_text())
    assert [r["method"] for r in rows] == methods
    assert all(0.0 <= r["accuracy"] <= 100.0 for r in rows)


def test_train_prints_one_line_per_epoch(capsys):
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch   1  loss")
    assert lines[-1].startswith("final test accuracy: ")


def test_train_out_saves_the_weights(tmp_path, capsys):
    formats = pytest.importorskip("minicompress.formats", reason="formats.py arrives with issue 3")
    from minicompress.nn import LeNet300_100

    path = tmp_path / "lenet300.npz"
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--out", str(path)]) == 0
    assert f"saved lenet300 to {path}" in capsys.readouterr().out
    model = LeNet300_100(rng=99)
    formats.load_model(path, model)
    assert model.num_parameters() == 266_610
