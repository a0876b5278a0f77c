"""The short version of the crash cycles (compat-tests/crash_cycles.py): a few SIGKILLs during
ingestion with --data-dir lose no acknowledged record or object, and leave the S3 catalog and
its files in agreement."""

import shutil

from crash_cycles import run


def test_kill_9_during_ingestion_loses_nothing_acknowledged(tmp_path):
    report = run(cycles=6, seed=11, data_dir=tmp_path / "data")
    assert report["records_acknowledged"] > 0 and report["objects_acknowledged"] > 0, report
    assert report["records_lost"] == 0, report
    assert report["objects_lost_or_wrong"] == 0, report
    assert report["orphan_files"] == 0 and report["rows_without_file"] == 0, report
    assert report["start_after_crash_ms_max"] < 5000, report
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
