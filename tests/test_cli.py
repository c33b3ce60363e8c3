"""The command line as a newcomer meets it: help, version, one-line errors (exit 2) before any
work, Ctrl-C (exit 130), output paths, pinned BLAS threads, train / evaluate / tour / figures."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minicompress
import minicompress.baselines
import minicompress.pipeline
from minicompress import cli
from minicompress.cli import build_parser, main
from minicompress.experiments.table import MAX_WIDTH

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
    assert out.startswith("usage: minicompress ")
    for name in subcommands():
        assert f"\n  {name} " in out
    assert set(subcommands()) == {"train", "evaluate", "tour", "figures", "check"}


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_subcommand_help_lists_its_options(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"], prog="python -m minicompress")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m minicompress {name}")
    sub = subcommands()[name]
    options = [s for a in sub._actions for s in a.option_strings]
    positionals = [a.metavar or a.dest for a in sub._actions if not a.option_strings]
    assert options  # every command has at least --help
    for option in options + positionals:
        assert option in out, f"{option} missing from `{name} --help`"
    for action in sub._actions:
        if action.help and action.help != argparse.SUPPRESS:
            assert action.help.split("(")[0].split()[0] in out  # each option is explained


def test_python_m_minicompress_in_a_fresh_interpreter_names_itself():
    done = subprocess.run([sys.executable, "-m", "minicompress", "--help"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: python -m minicompress ") and "tour" in done.stdout
    version = subprocess.run([sys.executable, "-m", "minicompress", "--version"], cwd=ROOT,
                             capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == f"minicompress {minicompress.__version__}"


def test_no_command_prints_the_help(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: minicompress") and "commands:" in out


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if any training or tour work starts."""
    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the command line was checked")

    for module, name in [(minicompress.pipeline, "tour"), (minicompress.pipeline, "make_figures"),
                         (minicompress.baselines, "train_baseline")]:
        monkeypatch.setattr(module, name, forbidden)


@pytest.mark.parametrize("argv, named", [
    (["tour", "--seed", "-1"], "argument --seed: expected an integer >= 0; got '-1'"),
    (["tour", "--threads", "0"], "argument --threads: expected an integer >= 1; got '0'"),
    (["train", "--epochs", "two"], "argument --epochs: expected an integer >= 1; got 'two'"),
    (["train", "--model", "resnet50"], "argument --model: invalid choice: 'resnet50'"),
    (["tour", "--sections", "nope"], "argument --sections: invalid choice: 'nope'"),
    (["tour", "--json", "{tmp}"], "argument --json: '{tmp}' is a folder; expected a file name"),
    (["tour", "--json", "{tmp}/afile/x.json"], "argument --json: '{tmp}/afile' is a file; expected a folder"),
    (["figures", "--outdir", "{tmp}/afile"], "argument --outdir: '{tmp}/afile' is a file; expected a folder"),
    (["train", "--out", "{tmp}"], "argument --out: '{tmp}' is a folder; expected a file name"),
    (["evaluate", "{tmp}/missing.npz"], "argument MODEL: no such file '{tmp}/missing.npz'"),
    (["evaluate", "{tmp}/afile"], "{tmp}/afile is not an .npz file"),
    (["tour", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_a_mistake_is_one_line_naming_the_argument_with_status_2(argv, named, tmp_path, capsys, no_work):
    (tmp_path / "afile").write_text("not a folder")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exit_info:  # argparse's own checks exit; the rest return
        status = exit_info.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert len(err) == 1 and named.replace("{tmp}", str(tmp_path)) in err[0], err
    assert err[0].startswith("minicompress") and ": error: " in err[0]


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minicompress.pipeline, "tour", interrupted)
    assert main(["tour", "--quick"]) == 130
    assert capsys.readouterr().err == "minicompress: interrupted\n"


@pytest.mark.parametrize("argv, expected", [([], 1), (["--threads", "2"], 2)])
def test_blas_threads_are_pinned_by_the_command_line(argv, expected, monkeypatch, capsys):
    from threadpoolctl import threadpool_info

    asked, expected = expected, min(expected, os.cpu_count())
    seen = {}

    def fake_tour(**kwargs):
        seen["threads"] = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
        seen["asked"] = kwargs["threads"]
        raise KeyboardInterrupt  # stop here: only the setting is under test

    monkeypatch.setattr(minicompress.pipeline, "tour", fake_tour)
    main(["tour", *argv])
    assert seen == {"threads": {expected}, "asked": asked}
    after = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    assert after == {1}  # conftest's one thread is back once the command returns


def fake_train(name, *, epochs, seed, verbose):
    from minicompress.baselines import build_model

    return build_model(name, rng=5), {"test_accuracy": [0.5]}


def test_train_without_out_says_it_did_not_save(monkeypatch, capsys):
    monkeypatch.setattr(minicompress.baselines, "train_baseline", fake_train)
    assert main(["train", "--model", "lenet300", "--epochs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["final test accuracy: 50.00%",
                     "not saved: pass --out FILE.npz to save the trained lenet300"]


def test_train_out_creates_the_folder_and_evaluate_reads_it_back(tmp_path, monkeypatch, capsys):
    """``train --out sub/x.npz`` saves with formats.save_model (training stubbed: this checks
    the wiring); ``evaluate`` finds the architecture and reports size, accuracy and MACs."""
    from minicompress import formats
    from minicompress.nn import LeNet300_100

    monkeypatch.setattr(minicompress.baselines, "train_baseline", fake_train)
    out = tmp_path / "new" / "folder" / "lenet300.npz"
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--out", str(out)]) == 0
    assert f"saved lenet300 to {out} (fp32, 1,041.5 KB)" in capsys.readouterr().out
    model = formats.load_model(out, LeNet300_100(rng=9))
    trained, _ = fake_train("lenet300", epochs=1, seed=0, verbose=False)
    for a, b in zip(trained.parameters(), model.parameters()):
        assert np.array_equal(a, b)
    assert main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "model:    lenet300 (LeNet300_100), 266,610 parameters" in text
    assert "stored:   1,041.5 KB as fp32" in text and "0.266 M MACs per image" in text
    assert "% on the 1,000 bundled test digits" in text
    assert main(["evaluate", str(out), "--model", "convnet"]) == 2  # the wrong architecture
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("minicompress evaluate: error: ") and "fc" in err[0]


def test_figures_never_write_the_committed_folder_by_default(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_make_figures(outdir, **kwargs):
        seen["outdir"] = Path(outdir)
        return []

    monkeypatch.setattr(minicompress.pipeline, "make_figures", fake_make_figures)
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "--quick"]) == 0
    assert seen["outdir"] == Path(cli.DEFAULT_FIGURES) != Path("figures")
    assert "--outdir figures replaces the committed figures" in capsys.readouterr().out
    assert main(["figures", "--outdir", "figures"]) == 0 and seen["outdir"] == Path("figures")


@pytest.mark.slow
def test_tour_quick_prints_a_marked_table_within_100_columns(tmp_path, capsys):
    out_json = tmp_path / "deep" / "rows.json"
    assert main(["tour", "--quick", "--sections", "baseline", "evaluation", "--json", str(out_json)]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0].startswith("SMOKE RUN (--quick") and "NOT results" in out[0]
    assert max(map(len, out)) <= MAX_WIDTH
    head = next(line for line in out if line.startswith("method"))
    assert head.split() == ["method", "format", "size", "KB", "ratio", "acc.", "%", "loss", "pts", "M",
                            "MACs"]
    assert "ConvNet (dense fp32)" in captured.out and "BLAS threads: 1 (pinned" in captured.out
    assert "[1/2] baselines" in captured.err and "[2/2] evaluation done in" in captured.err
    assert "baseline convnet, 2 epochs .. " in captured.err  # a dot per epoch
    saved = json.loads(out_json.read_text())
    assert saved["quick"] is True and saved["threads"] == 1
    methods = [r["method"] for r in saved["rows"]]
    assert methods[:2] == ["ConvNet (dense fp32)", "LeNet300_100 (dense fp32)"]
    assert [r["params"] for r in saved["rows"][:2]] == [27210, 266610]  # 16*9 + 16 + 2704*10 + 10
    assert all(0.0 <= r["accuracy"] <= 100.0 for r in saved["rows"])
    assert f"wrote {out_json}" in captured.out


def test_train_prints_one_line_per_epoch(capsys):
    assert main(["train", "--model", "lenet300", "--epochs", "1", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch   1  loss")
    assert lines[1].startswith("final test accuracy: ")

