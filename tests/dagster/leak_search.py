"""Searching a finished run for values that must not be there: needles and where to look.

A needle is one value in one encoding (raw, base64 at every byte alignment, URL-quoted, JSON
escaped, hex). A haystack is a named blob of bytes: captured log text, a serialized Dagster event,
the text cells of a warehouse table, a file. `find` reports every (haystack, needle) hit.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg

from seek_sync.driver import CURSOR_KEY
from seek_sync.sandbox.kombo_data import PEOPLE
from seek_sync.sandbox.world import World
from seek_sync.store.blobs import BlobStore
from seek_sync.store.warehouse import Warehouse

Haystack = tuple[str, bytes]


@dataclass(frozen=True)
class Needle:
    label: str  # e.g. "client_secret" or "email of candidate X"
    form: str  # raw, base64+1, url, json, hex...
    value: bytes


def _base64_cores(value: bytes) -> Iterator[tuple[str, bytes]]:
    """The part of `value`'s base64 that is the same wherever it sits in a longer byte string."""
    for offset in range(3):
        start = -(-offset * 8 // 6)  # characters touched by the bytes before it
        end = (offset + len(value)) * 8 // 6  # characters fully inside it
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            core = encode(b"\0" * offset + value)[start:end]
            yield f"{name}+{offset}", core


def forms(value: str) -> dict[str, bytes]:
    """Every encoding of `value` the search looks for (duplicates collapsed)."""
    raw = value.encode()
    found = {
        "raw": raw,
        "url": quote(value, safe="").encode(),
        "url+": quote_plus(value).encode(),
        "json": json.dumps(value)[1:-1].encode(),
        "hex": raw.hex().encode(),
    }
    found.update(_base64_cores(raw))
    unique: dict[bytes, str] = {}
    for form, encoded in found.items():
        unique.setdefault(encoded, form)
    return {form: encoded for encoded, form in unique.items()}


def needles(values: dict[str, str], *, encodings: bool = True) -> list[Needle]:
    """Needles for `label -> value`; `encodings=False` keeps raw, URL and JSON forms only."""
    keep = None if encodings else {"raw", "url", "url+", "json"}
    return [
        Needle(label, form, encoded)
        for label, value in values.items()
        for form, encoded in forms(value).items()
        if keep is None or form in keep
    ]


def find(haystacks: Iterable[Haystack], wanted: list[Needle]) -> list[str]:
    """`where: label (form)` for every needle found in a haystack."""
    return [
        f"{where}: {needle.label} ({needle.form})"
        for where, data in haystacks
        for needle in wanted
        if needle.value in data
    ]


# --- where to look --------------------------------------------------------------------------------
def log_haystacks(records: list[logging.LogRecord], out: str, err: str) -> list[Haystack]:
    """Python log records (message, arguments, exception text) and the process's stdout/stderr."""
    formatter = logging.Formatter()
    lines = []
    for record in records:
        lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}")
        if record.exc_info:
            lines.append(formatter.formatException(record.exc_info))
        if record.exc_text:
            lines.append(record.exc_text)
    return [
        ("python logging", "\n".join(lines).encode()),
        ("stdout", out.encode()),
        ("stderr", err.encode()),
    ]


def dagster_haystacks(instance: dg.DagsterInstance) -> list[Haystack]:
    """Each run's event log (every record serialized), run config and tags; the sensor cursor."""
    found: list[Haystack] = []
    for run in instance.get_runs():
        events = "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(run.run_id))
        found.append((f"dagster event log of run {run.run_id}", events.encode()))
        config = json.dumps({"run_config": run.run_config, "tags": dict(run.tags)}, default=str)
        found.append((f"dagster run config and tags of {run.run_id}", config.encode()))
    cursors = instance.run_storage.get_cursor_values({CURSOR_KEY})
    found.append(("sensor cursor", json.dumps(cursors).encode()))
    return found


def warehouse_haystacks(warehouse: Warehouse) -> list[Haystack]:
    """Every cell of every warehouse table, as text (one haystack per table), on either backend."""
    found: list[Haystack] = []
    with warehouse.session() as session:
        tables = session.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        for (table,) in tables:
            rows = session.rows(f'SELECT * FROM "{table}"')
            text = "\n".join("\t".join(str(cell) for cell in row) for row in rows)
            found.append((f"warehouse table {table}", text.encode()))
    return found


def file_contents(warehouse: Warehouse, blobs: BlobStore, *, width: int = 48) -> list[Needle]:
    """A raw slice from the middle of each stored attachment: found anywhere else, a file's
    content leaked there."""
    with warehouse.session() as session:
        keys = [k for (k,) in session.rows("SELECT DISTINCT blob_uri FROM attachment_files")]
    found: list[Needle] = []
    for key in keys:
        if key and blobs.exists(key):
            data = blobs.read_bytes(key)
            middle = data[len(data) // 2 : len(data) // 2 + width]
            if len(middle) == width:
                found.append(Needle(f"content of {key.rsplit('/', 1)[-1][:12]}", "raw", middle))
    return found


def file_haystacks(root: Path, *, skip: tuple[str, ...] = ()) -> Iterator[Haystack]:
    """Every file under `root` but those under the `skip` folders, read one at a time (the blob
    store holds ~100 MB)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        where = path.relative_to(root)
        if not where.parts or where.parts[0] not in skip:
            yield f"file {where}", path.read_bytes()


def personal_values(world: World, *, phones: bool = False) -> dict[str, str]:
    """label -> value: every sandbox candidate's email (and phone), their full name (given +
    family; a given name alone is too common a word to search for), and the Kombo fake's seeded
    people."""
    people: dict[str, str] = {}
    for candidate in world.candidates.values():
        person = candidate.person
        people[f"email {person.email}"] = person.email
        if phones:
            people[f"phone of {person.email}"] = person.phone
        if person.family:
            people[f"name of {person.email}"] = person.formatted_name
    for given, family, email in PEOPLE:
        people[f"email {email}"] = email
        people[f"name of {email}"] = f"{given} {family}"
    return people
