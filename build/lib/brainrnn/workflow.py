"""Glue between Snakemake's ``snakemake`` object and the library: logging and error reporting."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Callable
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STORAGE_ERRORS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                  errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
                  errno.EPERM: "the operation is not permitted"}


def describe_storage_error(error: OSError, outputs: list[str]) -> str | None:
    """A one-line explanation with a fix for an OSError caused by the disk, or None for other errors."""
    reason = STORAGE_ERRORS.get(error.errno or -1)
    if reason is None:
        return None
    where = error.filename or ", ".join(map(str, outputs)) or "an output"
    return (f"cannot write {where}: {reason} ({error.strerror}). No partial output was kept. Fix: free space or "
            "make the results folder writable (or run with snakemake --directory on another disk), then rerun.")


def run_rule(snakemake: Any, main: Callable[[Any], None]) -> None:
    """Run ``main(snakemake)`` with logging to the rule's log file; log any error, then exit 1.

    The error's message (which names the file, field and fix) is written to the log and to
    stderr, so it shows in Snakemake's own output as well as in ``logs/``.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if len(snakemake.log) > 0:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    log = logging.getLogger(f"rule.{snakemake.rule}")
    log.info("start %s wildcards=%s threads=%s", snakemake.rule, dict(snakemake.wildcards), snakemake.threads)
    try:
        main(snakemake)
    except Exception as error:
        storage = describe_storage_error(error, list(snakemake.output)) if isinstance(error, OSError) else None
        log.error("%s failed: %s", snakemake.rule, storage or error)
        logging.shutdown()
        raise SystemExit(1) from error
    log.info("done %s", snakemake.rule)
