"""The input layer: reading a user's file and validating it against a typed schema.

Every file a user gives -- a city preset, an initiative, a policy package, an experiment or
calibration spec, a scenario, a city graph -- is read here (:func:`read_input`): a regular
file only (a pipe would block), at most MAX_INPUT_BYTES, UTF-8 with or without a
byte-order mark, TOML nested at most MAX_DEPTH deep, and its content hash recorded so a run
can name exactly what it was made from (:func:`recording_reads`). Each format is checked by
a pydantic model. Any problem becomes an :class:`InputError` line naming the file, the key,
the bad value and what is allowed, with a did-you-mean for a misspelt key; a file with
several mistakes gets one line for each (at most MAX_MISTAKES). The same models write the
JSON Schemas in docs/schemas/, so an editor validates and completes a TOML file while it is
typed.

A format is a :class:`Schema` subclass; adding a field to a format is one annotated line.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import shutil
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartcity.simulation.world.errors import InputError


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


# Up to this many choices are all listed; of more, only the nearest NEAREST_SHOWN.
CHOICES_LISTED = 12
NEAREST_SHOWN = 5


def choices_text(word: object, choices: Iterable[str]) -> str:
    """``"use one of a, b, c"``, or for a long list the nearest few and how many there are."""
    listed = list(choices)
    if len(listed) <= CHOICES_LISTED:
        return f"use one of {', '.join(listed)}"
    near = difflib.get_close_matches(str(word), listed, n=NEAREST_SHOWN, cutoff=0.3)
    near = near or listed[:NEAREST_SHOWN]
    return f"nearest of the {len(listed)} allowed: {', '.join(near)}"


def one_line(text: object) -> str:
    """Collapse a message (a parser's, an OS error's) onto one line."""
    return " ".join(str(text).split())


# Input files larger than this are refused unread: a preset, package or spec is a few KB,
# a 2,000-district GraphML about 1 MB.
MAX_INPUT_BYTES = 64 * 2**20
# Tables and lists nested deeper than this are refused (no format here uses more than 4).
MAX_DEPTH = 32

_READS: ContextVar[dict[str, str] | None] = ContextVar("smartcity_reads", default=None)


@contextmanager
def recording_reads() -> Iterator[dict[str, str]]:
    """Collect ``{resolved path: SHA-256 of its bytes}`` of every input file read in the
    block (by :func:`read_input`), so a result can name exactly what it was made from."""
    reads: dict[str, str] = {}
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def read_input(path: str | Path, what: str, error: type[InputError] = InputError) -> bytes:
    """The bytes of an input file: a regular file of at most MAX_INPUT_BYTES, else one line.

    A folder, a pipe (which would block), a device, a missing file, a link loop or an
    unreadable file is one ``error`` line; the file's hash is recorded for
    :func:`recording_reads`.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {one_line(exc.strerror or exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} {path} is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is not a regular file (a pipe, socket or device); give a file")
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {one_line(exc.strerror or exc)}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise error(f"{what} {path} is larger than {MAX_INPUT_BYTES // 2**20} MiB; not read")
    reads = _READS.get()
    if reads is not None:
        reads[os.path.realpath(path)] = hashlib.sha256(raw).hexdigest()
    return raw


def read_text(path: str | Path, what: str, error: type[InputError] = InputError) -> str:
    """An input file as UTF-8 text, with or without a byte-order mark (see read_input)."""
    raw = read_input(path, what, error)
    try:
        # utf-8-sig: a byte-order mark some editors write is not part of the text.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None


def parse_toml(text: str, source: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """Parse TOML text; bad syntax or nesting deeper than MAX_DEPTH is one ``error`` line."""
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: invalid TOML: {one_line(exc)}") from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_DEPTH:
        raise error(f"{source}: tables or lists nested deeper than {MAX_DEPTH} levels")
    return data


def _depth(value: Any) -> int:
    """How deeply tables and lists nest in a parsed document (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend(
                (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def read_toml(path: str | Path, what: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """Read a TOML input file (see read_input, read_text and parse_toml): one line on any
    failure."""
    return parse_toml(read_text(path, what, error), str(path), error)


def toml_text(document: Mapping[str, Any], comment: str = "") -> str:
    """A document as TOML text that :func:`read_toml` reads back to the same values.

    The one TOML writer of the project (scenarios, calibrated presets, test files): tomli-w
    escapes every string (quotes, backslashes, newlines, control characters) and quotes
    keys that hold a dot, such as ``"citizens.count"``.

    Args:
        document: tables as dicts; values are texts, booleans, numbers (inf and nan too),
            lists or tuples of them, and dicts (tables, lists of dicts arrays of tables).
        comment: lines written first, each prefixed with ``# `` ("" for none).
    """
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    return header + tomli_w.dumps(document)


MIN_FREE_BYTES = 16 * 2**20  # room for a run's metrics and manifest, with margin


def check_output_dir(path: str | Path, what: str = "--out") -> None:
    """Refuse an output folder that cannot be written, before anything runs or is written.

    The folder may not exist yet: then its nearest existing ancestor must be a writable
    folder. A path that is a file, a link to nothing, lies under a file, sits on a read-only
    or full file system, or in a folder without write permission is one InputError line.
    """
    if not str(path).strip():
        raise InputError(f"{what} needs a folder name, got an empty one")
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise InputError(
            f"{what} {path} is a symbolic link to {os.readlink(path)!r}, which does not exist"
        )
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path} exists and is not a folder")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{what} {path} lies under {existing}, which is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path}: {existing} is not writable (read-only or no permission)")
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise InputError(
            f"{what} {path}: only {free / 2**20:.1f} MiB free on its file system; "
            f"{MIN_FREE_BYTES // 2**20} MiB needed"
        )


# Schemas validate strictly (a TOML `count = true` or `share = "0.5"` is a wrong type, not a
# value to convert); command-line text is parsed in lax mode where the parameters allow it.
Number = Annotated[float, Field(allow_inf_nan=False)]
"""A finite number (int or float in TOML); ``inf`` and ``nan`` are refused."""


def number(lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A finite number field from ``lo`` to ``hi`` (inclusive), with its meaning."""
    return Annotated[float, Field(ge=lo, le=hi, allow_inf_nan=False, description=doc or None)]


class Schema(BaseModel):
    """Base of every file format: unknown keys refused, values typed strictly, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


# A file with several mistakes gets one line for each, up to this many.
MAX_MISTAKES = 10


def validate[S: BaseModel](
    schema: type[S], data: Any, source: str, error: type[InputError] = InputError
) -> S:
    """Validate parsed TOML against a schema; every problem is one line of one ``error``."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise error(mistakes(source, describe_all(exc, schema))) from None
    except RecursionError:
        raise error(f"{source}: tables or lists nested too deeply to check") from None


def mistakes(source: str, lines: list[str]) -> str:
    """The message of a file's mistakes: one ``SOURCE: mistake`` line each, at most
    MAX_MISTAKES, then how many more there are."""
    shown = [f"{source}: {line}" for line in lines[:MAX_MISTAKES]]
    if len(lines) > MAX_MISTAKES:
        shown.append(f"{source}: and {len(lines) - MAX_MISTAKES} more mistake(s)")
    return "\n".join(shown)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "[key]")


def _allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a table at ``loc`` (inside ``schema``) allows, for the did-you-mean."""
    model: Any = schema
    for part in loc:
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            continue
        inner = field.annotation
        args = [a for a in getattr(inner, "__args__", ()) if isinstance(a, type)]
        model = next((a for a in [inner, *args] if _is_schema(a)), None)
        if model is None:
            return []
    if not _is_schema(model):
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _is_schema(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


KIND_NAMES = {
    "bool_type": "true/false",
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "text",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
}


def _is_tag(part: object) -> bool:
    """A union member's tag that pydantic puts in an error location (not a TOML key)."""
    return (
        isinstance(part, str)
        and part != "[key]"
        and ("[" in part or part in ("str", "int", "float", "bool", "list", "dict"))
    )


def describe(exc: ValidationError, schema: type[BaseModel]) -> str:
    """One line for the first problem of a pydantic ValidationError."""
    return describe_all(exc, schema)[0]


def describe_all(exc: ValidationError, schema: type[BaseModel]) -> list[str]:
    """One line per problem of a pydantic ValidationError, in the order of the schema.

    The errors pydantic reports for one value that may take several forms (a name or a list
    of names, a value or a table) are one problem: its line reports the deepest of them, or
    the forms allowed when none fits.
    """
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        cut = next((i for i, p in enumerate(raw) if _is_tag(p)), len(raw))
        groups.setdefault(raw[:cut] if cut < len(raw) else raw, []).append(err)
    return [_describe_group(group, schema) for group in groups.values()]


def _describe_group(errors: list[Any], schema: type[BaseModel]) -> str:
    """One line for the errors pydantic reports about one value."""
    err = errors[0]
    raw = tuple(err["loc"])
    if any(_is_tag(p) for p in raw):
        prefix = tuple(raw[: next(i for i, p in enumerate(raw) if _is_tag(p))])
        group = [e for e in errors if tuple(e["loc"][: len(prefix)]) == prefix]
        depth = [len([p for p in e["loc"] if not _is_tag(p)]) for e in group]
        deep = [e for e, d in zip(group, depth, strict=True) if d == max(depth)]
        other = [e for e in deep if e["type"] not in KIND_NAMES]
        if not other and len(deep) > 1:
            kinds = dict.fromkeys(KIND_NAMES[e["type"]] for e in deep)
            where = _location(tuple(p for p in deep[0]["loc"] if not _is_tag(p)))
            value = deep[0].get("input")
            return f"{where} = {value!r} has the wrong type; use {' or '.join(kinds)}"
        err = (other or deep)[0]
    loc = tuple(p for p in err["loc"] if not _is_tag(p))
    kind, value = err["type"], err.get("input")
    where = _location(loc)
    if kind == "extra_forbidden":
        # A key written like a tag ("[x]") is still the unknown key.
        loc = loc or tuple(err["loc"][-1:])
        table, key = loc[:-1], loc[-1]
        allowed = _allowed_keys(schema, table)
        inside = f" in [{_location(table)}]" if table else ""
        hint = did_you_mean(key, allowed)
        return f"unknown key '{key}'{inside}{hint}; allowed: {', '.join(allowed)}"
    if kind == "missing":
        return f"missing required key '{where}'"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        what = "value"
        if loc and loc[-1] == "[key]":
            what, where = "key", _location(loc[:-2])
        choices = [e.strip(" '") for e in expected.replace(" or ", ",").split(",")]
        hint = did_you_mean(value, choices)
        allowed = (
            f"use one of {expected}"
            if len(choices) <= CHOICES_LISTED
            else choices_text(value, choices)
        )
        return f"{where}: unknown {what} {value!r}{hint}; {allowed}"
    if kind in KIND_NAMES:
        return f"{where} = {value!r} has the wrong type; use {KIND_NAMES[kind]}"
    message = err["msg"].removeprefix("Value error, ")
    if isinstance(value, float) and not math.isfinite(value):
        message = "a finite number is required"
    return f"{where} = {value!r}: {message[:1].lower()}{message[1:]}"


def json_schema(schema: type[BaseModel], title: str, description: str) -> dict[str, Any]:
    """The editor-facing JSON Schema of a file format (draft 2020-12)."""
    document = schema.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **document,
        "title": title,
        "description": description,
    }


def schema_text(document: Mapping[str, Any]) -> str:
    """A JSON Schema as the text written to docs/schemas/ (stable key order)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
