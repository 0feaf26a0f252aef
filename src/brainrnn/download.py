"""Checksummed downloads: https only, retries, a temporary name, verify, then rename; safe extraction.

A manifest is a TSV with at least the columns ``subject``, ``url`` and ``sha256``. A file whose
SHA-256 differs from the manifest is deleted and reported; an interrupted transfer is retried
and never left behind under the final name.

An optional ``extract`` column (empty by default) marks a row whose file is a zip or tar archive,
to be unpacked after its checksum is verified (the MICrONS stage does this, rule
``extract_microns``); its value is the folder inside the archive that the consumer reads (``.``
for the archive's root). Extraction is all or nothing and never writes
outside its target: every member is checked first, and the archive is refused if any member has
an absolute path or a ``..`` component, is a symbolic or hard link pointing outside the archive,
or is a device file or FIFO. Members are unpacked into a temporary folder beside the target,
which is renamed into place only when complete.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

import pandas as pd

from brainrnn.errors import InputError
from brainrnn.io import atomic_path, new_folder_mode

LOG = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Plain http is refused except on loopback, where the test suite serves its own files."""
CHUNK_BYTES = 1 << 16
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


class DownloadError(RuntimeError):
    """A transfer failed on every attempt."""


def read_manifest(path: str | Path, required: tuple[str, ...] = ("subject", "url", "sha256"),
                  keys: tuple[str, ...] = ("subject",)) -> pd.DataFrame:
    """Load and check a download manifest; rows indexed by the ``keys`` columns; ``extract`` defaults to ''."""
    path = Path(path)
    if not path.is_file():
        raise InputError("the download manifest does not exist.", file=path, field="fmri.download.manifest",
                         fix="point fmri.download.manifest to a TSV with columns subject, url, sha256.")
    manifest = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
    missing = [column for column in required if column not in manifest.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}.", file=path, field=missing[0],
                         fix="the manifest is tab-separated with a header row.")
    if "extract" not in manifest.columns:
        manifest["extract"] = ""
    for row in manifest.itertuples():
        check_url(row.url, manifest_path=path)
        if len(row.sha256) != 64 or any(char not in "0123456789abcdef" for char in row.sha256.lower()):
            raise InputError(f"'{row.sha256}' is not a SHA-256 hex digest.", file=path, field="sha256",
                             subject=getattr(row, "subject", None), fix="give the 64-character hex digest (sha256sum).")
        if row.extract:
            _check_extract_row(getattr(row, "file", None) or file_name(row.url), row.extract, path)
    return manifest.set_index(list(keys) if len(keys) > 1 else keys[0], drop=False)


def _check_extract_row(name: str, inner: str, manifest_path: Path) -> None:
    """An ``extract`` row must name an archive and a relative folder that stays inside it."""
    if not is_archive(name):
        raise InputError(f"'{name}' has an 'extract' entry but is not a zip or tar archive.",
                         file=manifest_path, field="extract",
                         fix=f"leave 'extract' empty for plain files; archives end in {', '.join(ARCHIVE_SUFFIXES)}.")
    if PurePosixPath(inner).is_absolute() or ".." in PurePosixPath(inner).parts:
        raise InputError(f"extract folder '{inner}' leaves the archive.", file=manifest_path, field="extract",
                         fix="give a relative path inside the archive without '..' ('.' for its root).")


def is_archive(name: str) -> bool:
    """Whether a file name ends in a zip or tar suffix."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def check_url(url: str, *, manifest_path: str | Path | None = None) -> None:
    """Allow https anywhere and http only on loopback."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS):
        return
    raise InputError(f"refusing to download '{url}': only https URLs are allowed.", file=manifest_path,
                     field="url", fix="use the https address of the file.")


def file_name(url: str) -> str:
    """Local file name of a URL (its last path component)."""
    name = Path(urllib.parse.urlparse(url).path).name
    if not name or name in (".", ".."):
        raise InputError(f"cannot derive a file name from '{url}'.", field="url",
                         fix="the URL must end in a file name.")
    return name


def download(url: str, destination: str | Path, sha256: str, *, retries: int = 3,
             timeout_s: float = 60.0, backoff_s: float = 1.0) -> Path:
    """Fetch ``url`` to ``destination``, verifying its SHA-256; nothing is left behind on failure."""
    check_url(url)
    destination = Path(destination)
    last_error: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(destination) as tmp:
                digest = _fetch(url, tmp, timeout_s)
                if digest != sha256.lower():
                    raise InputError(f"checksum mismatch for {url}: expected {sha256.lower()}, got {digest}.",
                                     file=destination, field="sha256",
                                     fix="the file changed upstream or the manifest is wrong; do not use it "
                                     "until the manifest's checksum is confirmed.")
            LOG.info("downloaded %s (attempt %d, sha256 ok)", url, attempt)
            return destination
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
            last_error = error
            LOG.warning("attempt %d/%d for %s failed: %s", attempt, retries, url, error)
            if attempt < retries:
                time.sleep(backoff_s * attempt)
    raise DownloadError(f"could not download {url} after {retries} attempts: {last_error}. Fix: check the "
                        "network or the URL, then rerun; nothing was written.")


def _fetch(url: str, target: Path, timeout_s: float) -> str:
    """Stream one response into ``target``; raise on a short read; return the hex digest."""
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(target, "wb") as stream:
        expected = response.headers.get("Content-Length")
        while chunk := response.read(CHUNK_BYTES):
            stream.write(chunk)
            digest.update(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise http.client.IncompleteRead(b"", int(expected) - received)
    return digest.hexdigest()


def extract_archive(archive: str | Path, target: str | Path, *, inner: str = ".") -> Path:
    """Unpack a zip or tar archive into the folder ``target``: all or nothing, nothing outside ``target``.

    Every member is checked before anything is written (see the module docstring); the archive
    is unpacked into a temporary folder beside ``target`` that replaces ``target`` only when
    complete and when it holds the folder ``inner`` the consumer expects.
    """
    archive, target = Path(archive), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".extracting", dir=target.parent))
    try:
        staging.chmod(new_folder_mode())  # mkdtemp makes it 0700
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as bundle:
                for info in bundle.infolist():
                    _check_zip_member(archive, bundle, info)
                bundle.extractall(staging)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as bundle:
                for member in bundle.getmembers():
                    _check_tar_member(archive, member)
                bundle.extractall(staging, filter="data")
        else:
            raise InputError("not a zip or tar archive.", file=archive, field="extract",
                             fix="check the manifest row: only zip and tar (optionally gz, bz2, xz) are unpacked.")
        if not (staging / inner).is_dir():
            raise InputError(f"the archive has no folder '{inner}'.", file=archive, field="extract",
                             fix="set the manifest's 'extract' to a folder inside the archive ('.' for its root).")
        _replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    LOG.info("extracted %s into %s", archive, target)
    return target


def _refuse(archive: Path, member: str, reason: str) -> InputError:
    return InputError(f"unsafe member '{member}': {reason}; nothing was extracted.", file=archive, field="extract",
                      fix="do not use this archive: obtain a clean copy from the source and check its checksum, "
                      "or repack it without that member.")


def _check_name(archive: Path, name: str) -> None:
    """A member name must be relative and free of '..'."""
    path = PurePosixPath(name)
    if not name or path.is_absolute():
        raise _refuse(archive, name, "absolute or empty path")
    if ".." in path.parts:
        raise _refuse(archive, name, "a '..' component would leave the target folder")


def _check_link(archive: Path, name: str, link: str, *, relative_to_member: bool) -> None:
    """A link target must stay inside the archive (symlinks resolve from the member's folder)."""
    base = PurePosixPath(name).parent if relative_to_member else PurePosixPath()
    resolved = posixpath.normpath(str(base / link))
    if PurePosixPath(link).is_absolute() or resolved == ".." or resolved.startswith("../"):
        raise _refuse(archive, name, f"a link to '{link}' points outside the target folder")


def _check_zip_member(archive: Path, bundle: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    _check_name(archive, info.filename)
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        _check_link(archive, info.filename, bundle.read(info).decode("utf-8", "replace"), relative_to_member=True)
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(archive, info.filename, "a device file, FIFO or socket")


def _check_tar_member(archive: Path, member: tarfile.TarInfo) -> None:
    _check_name(archive, member.name)
    if member.issym():
        _check_link(archive, member.name, member.linkname, relative_to_member=True)
    elif member.islnk():
        _check_link(archive, member.name, member.linkname, relative_to_member=False)
    elif not (member.isfile() or member.isdir()):
        raise _refuse(archive, member.name, "a device file, FIFO or other special file")


def _replace_folder(source: Path, target: Path) -> None:
    """Rename ``source`` onto ``target``; an existing ``target`` is removed only after the swap."""
    if not target.exists():
        os.rename(source, target)
        return
    previous = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".previous", dir=target.parent))
    os.replace(target, previous / "old")
    os.rename(source, target)
    shutil.rmtree(previous, ignore_errors=True)
