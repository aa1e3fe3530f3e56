"""Store faults and run identity: run files swapped, foreign, truncated, linked or written
concurrently, and a damaged manifest. Each is found by ``--resume`` and ``load_results``,
named in one line, and a resumed store ends byte for byte equal to an uninterrupted
sweep's. A run is reused only for the same inputs and code: an edited package or an edit
of the model's code between two identical commands runs the affected runs again.

Every sweep is a 4-run spec of a 100-citizen city over one year.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from smartcity.cli import main
from smartcity.experiments import provenance, store
from smartcity.experiments.store import StoreError, load_results

SPEC = """
presets = ["mature"]
replications = 2
root_seed = {seed}
years = 1
keep_every = 6

[overrides]
"citizens.count" = 100

[grid]
"citizens.trust_mean" = [0.4, 0.6]
"""
RUNS = 4


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of the CLI, argparse's own exits included."""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, capsys.readouterr().err


def sweep(spec: Path, out: Path, *extra: str) -> list[str]:
    return ["sweep", str(spec), "--out", str(out), "--workers", "1", *extra]


def spec_file(tmp_path: Path, seed: int = 5) -> Path:
    path = tmp_path / f"spec{seed}.toml"
    path.write_text(SPEC.format(seed=seed), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """An uninterrupted sweep of SPEC (seed 5), the reference every repaired store equals."""
    folder = tmp_path_factory.mktemp("whole")
    assert main(sweep(spec_file(folder), folder / "out", "--quiet")) == 0
    return folder / "out"


def stored(tmp_path: Path, whole: Path) -> Path:
    """A copy of the reference store to damage."""
    out = tmp_path / "out"
    shutil.copytree(whole, out)
    return out


def store_bytes(out: Path) -> dict[str, bytes]:
    """The store's files (manifest and runs; not the lock, which names its last holder)."""
    files = [out / store.MANIFEST, *sorted((out / store.RUNS_DIR).iterdir())]
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in files}


def run_files(out: Path) -> list[Path]:
    return sorted((out / store.RUNS_DIR).glob("*.parquet"))


def test_swapped_run_file_is_found_and_run_again(tmp_path, capsys, whole):
    out = stored(tmp_path, whole)
    first, second = run_files(out)[:2]
    shutil.copyfile(first, second)
    with pytest.raises(StoreError, match=f"holds run {first.stem}, not {second.stem}"):
        load_results(out)
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 0, err
    assert "1 damaged run file(s)" in err and second.stem in err, err
    assert store_bytes(out) == store_bytes(whole)


def test_foreign_run_file_is_named_and_ignored(tmp_path, capsys, whole):
    other = tmp_path / "other"
    assert run_cli(sweep(spec_file(tmp_path, seed=6), other, "--quiet"), capsys)[0] == 0
    out = stored(tmp_path, whole)
    foreign = run_files(other)[0]
    shutil.copyfile(foreign, out / store.RUNS_DIR / foreign.name)
    results = load_results(out)
    assert results["run_id"].nunique() == RUNS
    pd.testing.assert_frame_equal(results, load_results(whole), check_exact=True)
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 0, err
    assert f"1 file(s) in {out / store.RUNS_DIR}" in err and foreign.name in err, err
    assert err.count("\n") == 1, err
    assert store_bytes(out) == {
        **store_bytes(whole),
        f"{store.RUNS_DIR}/{foreign.name}": foreign.read_bytes(),
    }


def test_foreign_file_under_a_planned_name_is_run_again(tmp_path, capsys, whole):
    """A valid run of another spec renamed to a run id of this one: its identity differs."""
    other = tmp_path / "other"
    assert run_cli(sweep(spec_file(tmp_path, seed=6), other, "--quiet"), capsys)[0] == 0
    out = stored(tmp_path, whole)
    target = run_files(out)[0]
    foreign = run_files(other)[0]
    shutil.copyfile(foreign, target)
    with pytest.raises(StoreError, match="holds run"):
        load_results(out)
    assert run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)[0] == 0
    assert store_bytes(out) == store_bytes(whole)


def test_truncated_and_emptied_run_files_are_run_again(tmp_path, capsys, whole):
    out = stored(tmp_path, whole)
    first, second = run_files(out)[:2]
    first.write_bytes(first.read_bytes()[:100])
    second.write_bytes(b"")
    with pytest.raises(StoreError, match="damaged"):
        load_results(out)
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 0 and "2 damaged run file(s)" in err, err
    assert store_bytes(out) == store_bytes(whole)


def test_symlinked_run_file_is_not_read_and_is_replaced(tmp_path, capsys, whole):
    out = stored(tmp_path, whole)
    target = run_files(out)[0]
    elsewhere = tmp_path / "elsewhere.parquet"
    shutil.copyfile(target, elsewhere)
    target.unlink()
    target.symlink_to(elsewhere)
    with pytest.raises(StoreError, match="not a regular file"):
        load_results(out)
    assert run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)[0] == 0
    assert not target.is_symlink()
    assert store_bytes(out) == store_bytes(whole)


def test_symlinked_runs_folder_is_refused(tmp_path, capsys, whole):
    out = stored(tmp_path, whole)
    shutil.move(out / store.RUNS_DIR, tmp_path / "runs-elsewhere")
    (out / store.RUNS_DIR).symlink_to(tmp_path / "runs-elsewhere")
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 2 and err.count("\n") == 1 and "symbolic link" in err, err


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_lock_planted_as_a_link_is_refused_and_its_target_untouched(tmp_path, capsys, link):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    if link == "symlink":
        (out / store.LOCK).symlink_to(victim)
    else:
        os.link(victim, out / store.LOCK)
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--quiet"), capsys)
    assert status == 2 and err.count("\n") == 1 and ".lock" in err, err
    assert victim.read_text() == "precious\n"
    assert not (out / store.MANIFEST).exists()


@pytest.mark.parametrize(
    "content",
    [b"garbage{", b"[1, 2]", b"\xff\xfe\x00", b"", b'{"runs": "x"}', b"[" * 100_000],
)
def test_damaged_manifest_is_one_line_with_what_to_do(tmp_path, capsys, whole, content):
    out = stored(tmp_path, whole)
    (out / store.MANIFEST).write_bytes(content)
    before = store_bytes(out)
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "manifest" in err and "move it away" in err, err
    assert store_bytes(out) == before
    with pytest.raises(StoreError, match="manifest"):
        load_results(out)


def test_manifest_moved_away_resumes_with_the_runs_kept(tmp_path, capsys, whole):
    """What the damaged-manifest message advises: the runs on disk are checked and kept."""
    out = stored(tmp_path, whole)
    (out / store.MANIFEST).unlink()
    status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 0, err
    assert store_bytes(out) == store_bytes(whole)


def test_concurrent_writer_and_a_killed_writers_temp_files(tmp_path, capsys, whole):
    """A second sweep while one holds the lock is refused; temp files a killed writer left
    are dropped by the next one, and the store completes to the reference bytes."""
    out = stored(tmp_path, whole)
    run_files(out)[0].unlink()
    (out / store.RUNS_DIR / (store.TMP_PREFIX + "x.parquet.123")).write_bytes(b"half")
    with store.locked(out):
        status, err = run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)
    assert status == 2 and "in use by a running sweep" in err, err
    assert run_cli(sweep(spec_file(tmp_path), out, "--resume", "--quiet"), capsys)[0] == 0
    assert store_bytes(out) == store_bytes(whole)


PACKAGE = """
title = "My package"

[capabilities]
budget_share = {share}
"""


def compare_argv(out: Path, package: Path) -> list[str]:
    return [
        "compare", "--out", str(out), "--presets", "mature", "--policies", "baseline",
        str(package), "--replications", "1", "--years", "1", "--workers", "1",
        "--set", "citizens.count=150",
    ]  # fmt: skip


def planned_ids(out: Path) -> dict[str, str]:
    """{policy: run id} of the runs the store's manifest plans."""
    return {run["policy"]: run["run_id"] for run in store.read_manifest(out)["runs"]}


def test_editing_a_package_between_two_compares_reruns_its_runs(tmp_path, capsys):
    package = tmp_path / "my_pkg.toml"
    package.write_text(PACKAGE.format(share=0.08), encoding="utf-8")
    out = tmp_path / "c"
    assert run_cli(compare_argv(out, package), capsys)[0] == 0
    before = planned_ids(out)
    old_run = (out / store.RUNS_DIR / f"{before[str(package)]}.parquet").read_bytes()
    assert run_cli(compare_argv(out, package), capsys)[0] == 0
    assert planned_ids(out) == before  # same inputs: every run reused

    package.write_text(PACKAGE.format(share=0.20), encoding="utf-8")
    status, err = run_cli(compare_argv(out, package), capsys)
    assert status == 0, err
    after = planned_ids(out)
    assert after["baseline"] == before["baseline"]  # unaffected: reused
    assert after[str(package)] != before[str(package)]  # affected: run again
    assert f"{before[str(package)]}.parquet" in err  # the old run: named, ignored
    results = load_results(out)
    assert set(results["run_id"]) == set(after.values())
    new_run = (out / store.RUNS_DIR / f"{after[str(package)]}.parquet").read_bytes()
    assert new_run != old_run


def test_editing_the_model_code_between_two_compares_reruns_every_run(
    tmp_path, capsys, monkeypatch
):
    package = tmp_path / "my_pkg.toml"
    package.write_text(PACKAGE.format(share=0.08), encoding="utf-8")
    out = tmp_path / "c"
    assert run_cli(compare_argv(out, package), capsys)[0] == 0
    before = planned_ids(out)
    monkeypatch.setattr(provenance, "code_digest", lambda: "0" * 16)
    assert run_cli(compare_argv(out, package), capsys)[0] == 0
    after = planned_ids(out)
    assert not set(after.values()) & set(before.values())
    assert set(load_results(out)["run_id"]) == set(after.values())


def test_code_digest_changes_with_any_edit_of_the_result_code(tmp_path):
    """An uncommitted edit of a model file changes the digest; an edit of a test does not."""
    root = Path(provenance.__file__).resolve().parent.parent
    copy = tmp_path / "pkg"
    for folder in provenance.RESULT_CODE:
        shutil.copytree(root / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(root / "__init__.py", copy / "__init__.py")
    (copy / "tests").mkdir()
    original = provenance.source_digest(copy)
    assert original == provenance.source_digest(root)
    (copy / "tests" / "test_x.py").write_text("x = 1\n")
    assert provenance.source_digest(copy) == original
    citizens = copy / "agents" / "citizens.py"
    citizens.write_text(citizens.read_text() + "\n# an edit\n")
    assert provenance.source_digest(copy) != original
