"""Checksummed downloads: https only, retries, a temporary name, verify, then rename.

A manifest is a TSV with at least the columns ``subject``, ``url`` and ``sha256``. A file whose
SHA-256 differs from the manifest is deleted and reported; an interrupted transfer is retried
and never left behind under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd

from brainrnn.errors import InputError
from brainrnn.io import atomic_path

LOG = logging.getLogger(__name__)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
"""Plain http is refused except on loopback, where the test suite serves its own files."""
CHUNK_BYTES = 1 << 16


class DownloadError(RuntimeError):
    """A transfer failed on every attempt."""


def read_manifest(path: str | Path, required: tuple[str, ...] = ("subject", "url", "sha256"),
                  keys: tuple[str, ...] = ("subject",)) -> pd.DataFrame:
    """Load and check a download manifest; rows indexed by the ``keys`` columns."""
    path = Path(path)
    if not path.is_file():
        raise InputError("the download manifest does not exist.", file=path, field="fmri.download.manifest",
                         fix="point fmri.download.manifest to a TSV with columns subject, url, sha256.")
    manifest = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
    missing = [column for column in required if column not in manifest.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}.", file=path, field=missing[0],
                         fix="the manifest is tab-separated with a header row.")
    for row in manifest.itertuples():
        check_url(row.url, manifest_path=path)
        if len(row.sha256) != 64 or any(char not in "0123456789abcdef" for char in row.sha256.lower()):
            raise InputError(f"'{row.sha256}' is not a SHA-256 hex digest.", file=path, field="sha256",
                             subject=getattr(row, "subject", None), fix="give the 64-character hex digest (sha256sum).")
    return manifest.set_index(list(keys) if len(keys) > 1 else keys[0], drop=False)


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
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(target, "wb") as stream:  # noqa: S310
        expected = response.headers.get("Content-Length")
        while chunk := response.read(CHUNK_BYTES):
            stream.write(chunk)
            digest.update(chunk)
            received += len(chunk)
    if expected is not None and received != int(expected):
        raise http.client.IncompleteRead(b"", int(expected) - received)
    return digest.hexdigest()
