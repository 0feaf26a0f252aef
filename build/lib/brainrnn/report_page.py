"""The configuration page of the Snakemake report: the validated configuration and the subjects sheet.

Snakemake 9's HTML report does not show the configuration files, so the workflow writes this
self-contained page (no scripts, no external resources, no timestamps) and registers it as a result.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import yaml

STYLE = ("body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:13px;margin:1.5em;color:#1e293b}"
         "h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}"
         "pre{background:#f1f5f9;padding:1em;border-radius:4px;font-size:12px;line-height:1.35}"
         "table{border-collapse:collapse}td,th{border:1px solid #cbd5e1;padding:2px 8px;text-align:left}")


def config_page(config: Mapping[str, Any], configfiles: Sequence[str], subjects: pd.DataFrame) -> str:
    """An HTML page with the configuration as the run used it (YAML, every default filled in), the
    configuration files it came from, and the subjects sheet."""
    sources = "".join(f"<li><code>{html.escape(str(path))}</code></li>" for path in configfiles)
    text = yaml.safe_dump(_plain(config), sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Configuration</title>"
        f"<style>{STYLE}</style></head><body>\n"
        "<h1>Configuration</h1>\n"
        "<p>The configuration this report's results were made with, after validation against "
        "<code>config/schemas/config.schema.yaml</code> (every default filled in). Configuration files, in order:</p>"
        f"<ul>{sources}</ul>\n"
        f"<pre id=\"config\">{html.escape(text)}</pre>\n"
        f"<h2>Subjects ({len(subjects)})</h2>\n"
        f"{subjects.to_html(index=False, border=0, escape=True, table_id='subjects')}\n"
        "</body></html>\n")


def _plain(value: Any) -> Any:
    """Snakemake's config as plain dicts and lists (so that YAML needs no Python tags)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
