"""Atomic writing: nothing partial is left behind, and results are readable as the umask says."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pandas as pd
import pytest

from brainrnn.download import extract_archive
from brainrnn.io import atomic_path, current_umask, write_table


@pytest.fixture
def umask():
    """Set the process umask for one test, then restore it."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_umask(value: int) -> None:
        os.umask(value)

    yield set_umask
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_results_get_the_mode_a_new_file_gets_under_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / "table.tsv")
    assert stat.S_IMODE((tmp_path / "table.tsv").stat().st_mode) == mode


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.tsv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("the job died")
    assert list(tmp_path.iterdir()) == []


def test_an_unpacked_archive_folder_is_readable_as_the_umask_says(tmp_path, umask):
    umask(0o022)
    archive = tmp_path / "field.tar"
    with tarfile.open(archive, "w") as bundle:
        data = b"x"
        info = tarfile.TarInfo("info/6_6_2/file.npy")
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
    target = extract_archive(archive, tmp_path / "unpacked", inner="info")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
