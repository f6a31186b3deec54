"""Load Text2SQL rows in the ko_text2sql format (``db_id, context, question, answer``).

Sources: ``.jsonl``/``.ndjson``, ``.json`` (a list of objects), ``.csv``/``.tsv``, ``.parquet``,
a ``datasets.save_to_disk`` folder (one split; for a ``DatasetDict`` folder pass its split
sub-folder, or the folder when it has a single split) and ``hf:NAME[:CONFIG[:SPLIT]]`` for the
Hugging Face hub (or any name/path ``datasets.load_dataset`` understands, e.g. a local folder of
CSV files).

Column names are configurable; the question, context and answer columns are required. When the
db_id column is missing, rows get ``db_id = "ctx-<hash of the DDL>"`` so rows sharing a schema
still share a db_id (``split --by db`` works on ``b-mc2/sql-create-context``-style data). Other
columns are kept in ``Example.extra``; a relative ``db_path`` is resolved against the file's
folder. Every problem is a :class:`~kosql.errors.UserError` with one sentence.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kosql.data.rows import CORE_COLUMNS, Example, _text, parse_jsonl_line
from kosql.errors import DependencyError, UserError
from kosql.hub import hub_reachable

HF_PREFIX = "hf:"
COLUMN_OPTIONS = "--question-col/--context-col/--answer-col/--db-id-col"
_DISK_MARKERS = ("state.json", "dataset_info.json", "dataset_dict.json")


@dataclass(frozen=True)
class ColumnMap:
    """Which source column holds each core field."""

    question: str = "question"
    context: str = "context"
    answer: str = "answer"
    db_id: str = "db_id"
    id: str = "id"

    def required(self) -> dict[str, str]:
        """The columns that must exist: question, context, answer, plus db_id/id when renamed."""
        out = {"question": self.question, "context": self.context, "answer": self.answer}
        if self.db_id != "db_id":
            out["db_id"] = self.db_id
        if self.id != "id":
            out["id"] = self.id
        return out


@dataclass
class RawTable:
    """Records read from a source before column mapping."""

    name: str
    records: list[dict[str, Any]]
    columns: list[str]
    folder: Path | None = None


def load_examples(
    source: str | Path,
    *,
    question_col: str = "question",
    context_col: str = "context",
    answer_col: str = "answer",
    db_id_col: str = "db_id",
    id_col: str = "id",
) -> list[Example]:
    """Load rows from ``source`` (file, ``save_to_disk`` folder or ``hf:NAME[:CONFIG[:SPLIT]]``).

    A Spider folder (with ``tables.json`` and ``dev.json``) or a Spider questions file next to its
    ``tables.json`` is imported with :func:`kosql.data.spider.import_spider`.
    """
    spider = spider_source(source)
    if spider is not None:
        from kosql.data.spider import import_spider

        tables, questions = spider
        db_dir = tables.parent / "database"
        return import_spider(tables, questions, db_dir if db_dir.is_dir() else None)
    cols = ColumnMap(question_col, context_col, answer_col, db_id_col, id_col)
    return examples_from_table(read_table(source), cols)


def spider_source(source: str | Path) -> tuple[Path, Path] | None:
    """``(tables.json, questions file)`` when ``source`` is a Spider folder or questions file."""
    text = str(source)
    if text.startswith(HF_PREFIX):
        return None
    path = Path(source)
    if path.is_dir() and (path / "tables.json").is_file() and not any((path / m).exists() for m in _DISK_MARKERS):
        if not (path / "dev.json").is_file():
            raise UserError(f"{path}: is a Spider folder without dev.json; pass its questions file, e.g. {path}/train_spider.json.")
        return path / "tables.json", path / "dev.json"
    if path.suffix.lower() == ".json" and path.name != "tables.json" and (path.parent / "tables.json").is_file():
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8", errors="ignore")
        if '"db_id"' in head and ('"query"' in head or '"SQL"' in head) and '"context"' not in head:
            return path.parent / "tables.json", path
    return None


def read_table(source: str | Path) -> RawTable:
    """Read the raw records of ``source``; raises UserError for unreadable input."""
    text = str(source)
    if text.startswith(HF_PREFIX):
        return _read_hub(text[len(HF_PREFIX):])
    path = Path(source)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder.")
    if path.is_dir():
        return _read_disk_folder(path)
    if path.stat().st_size == 0:
        raise UserError(f"{path}: the file is empty.")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        table = _read_jsonl(path)
    elif suffix == ".json":
        table = _read_json(path)
    elif suffix in (".csv", ".tsv"):
        table = _read_csv(path, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        table = _read_parquet(path)
    else:
        raise UserError(
            f"{path}: unknown file format {suffix or '(no extension)'!r}; use .jsonl, .json, .csv, "
            ".tsv, .parquet, a datasets.save_to_disk folder or hf:NAME[:CONFIG[:SPLIT]]."
        )
    if not table.records:
        raise UserError(f"{path}: the file has no rows.")
    return table


def examples_from_table(table: RawTable, cols: ColumnMap) -> list[Example]:
    """Map raw records to Examples; missing required columns is one UserError."""
    found = set(table.columns)
    missing = [name for name in cols.required().values() if name not in found]
    if missing:
        quoted = ", ".join(repr(m) for m in missing)
        listing = ", ".join(table.columns) if table.columns else "none"
        raise UserError(
            f"{table.name}: missing required column{'s' if len(missing) > 1 else ''} {quoted} "
            f"(columns found: {listing}); name the right columns with {COLUMN_OPTIONS}."
        )
    used = {cols.question, cols.context, cols.answer, cols.db_id, cols.id}
    has_db = cols.db_id in found
    out: list[Example] = []
    for index, rec in enumerate(table.records):
        context = _text(rec.get(cols.context))
        raw_id = _text(rec.get(cols.id))
        extra: dict[str, Any] = {}
        for key, value in rec.items():
            if key in used:
                continue
            name = f"{key}_original" if key in CORE_COLUMNS or key == "id" else key
            extra[name] = _json_list(value) if key == "features" else value
        if table.folder is not None and extra.get("db_path"):
            extra["db_path"] = _resolve_db_path(str(extra["db_path"]), table.folder)
        out.append(Example(
            id=raw_id or str(index),
            db_id=_text(rec.get(cols.db_id)) if has_db else context_db_id(context),
            context=context,
            question=_text(rec.get(cols.question)),
            answer=_text(rec.get(cols.answer)),
            extra=extra,
        ))
    return out


def _json_list(value: Any) -> Any:
    """A ``features`` cell written to CSV as a JSON list becomes a list again."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def context_db_id(context: str) -> str:
    """A stable db_id for a row without one: ``ctx-`` + 8 hex digits of its whitespace-collapsed DDL."""
    key = " ".join(context.split()).lower()
    return "ctx-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]


def _resolve_db_path(value: str, folder: Path) -> str:
    p = Path(value).expanduser()
    return str(p) if p.is_absolute() else str((folder / p).resolve())


# -- file readers -----------------------------------------------------------------------------


def _decode_error(path: Path, exc: UnicodeDecodeError, data: bytes | None = None) -> UserError:
    line = ""
    if data is not None:
        line = " on line " + str(data.count(b"\n", 0, exc.start) + 1)
    return UserError(
        f"{path}: is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}{line}); re-save it as "
        "UTF-8, e.g. iconv -f cp949 -t utf-8."
    )


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc, data) from None
    if not text.strip():
        raise UserError(f"{path}: the file is empty.")
    return text


def _columns_of(records: Sequence[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for rec in records:
        for key in rec:
            seen.setdefault(key, None)
    return list(seen)


def _read_jsonl(path: Path) -> RawTable:
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        obj = parse_jsonl_line(line, path, lineno)
        if obj is not None:
            records.append(obj)
    return RawTable(str(path), records, _columns_of(records), path.parent.resolve())


def _read_json(path: Path) -> RawTable:
    try:
        obj = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: is not valid JSON ({exc.msg} on line {exc.lineno}).") from None
    if isinstance(obj, dict) and isinstance(obj.get("data"), list):
        obj = obj["data"]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        raise UserError(f"{path}: a .json file must hold a list of objects (one per row).")
    return RawTable(str(path), obj, _columns_of(obj), path.parent.resolve())


def _read_csv(path: Path, delimiter: str) -> RawTable:
    text = _read_text(path)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        reader = csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        records = []
        for rec in reader:
            records.append({k: v for k, v in rec.items() if k is not None})
    except csv.Error as exc:
        raise UserError(f"{path}: is not a readable CSV file ({exc}).") from None
    return RawTable(str(path), records, columns, path.parent.resolve())


def _read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise UserError(f"{path}: is not a readable Parquet file ({_first_line(exc)}).") from None
    return RawTable(str(path), table.to_pylist(), list(table.column_names), path.parent.resolve())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")


# -- datasets -----------------------------------------------------------------------------------


def _import_datasets(purpose: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise DependencyError("datasets", "train", purpose) from None
    return datasets


def _read_disk_folder(path: Path) -> RawTable:
    if not any((path / m).exists() for m in _DISK_MARKERS):
        hint = " (it looks like Spider: use kosql data import-spider)" if (path / "tables.json").exists() else ""
        raise UserError(
            f"{path}: is a folder but not a datasets.save_to_disk folder{hint}; pass a data file "
            "or hf:PATH for a folder of data files."
        )
    datasets = _import_datasets(f"Reading the datasets folder {path}")
    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise UserError(f"{path}: cannot be read as a datasets folder ({_first_line(exc)}).") from None
    return _table_from_dataset(loaded, str(path), path.resolve(), f"{path}/SPLIT")


def _table_from_dataset(obj: Any, name: str, folder: Path | None, how: str) -> RawTable:
    if _is_dataset_dict(obj):
        splits = list(obj.keys())
        if len(splits) != 1:
            raise UserError(
                f"{name}: holds the splits {', '.join(splits)}; pick one, e.g. {how.replace('SPLIT', splits[0])}."
            )
        obj = obj[splits[0]]
    if not hasattr(obj, "to_list"):
        raise UserError(f"{name}: is a streaming or unknown dataset type that cannot be loaded.")
    records = obj.to_list()
    if not records:
        raise UserError(f"{name}: the dataset has no rows.")
    return RawTable(name, records, list(obj.column_names), folder)


def _is_dataset_dict(obj: Any) -> bool:
    return type(obj).__name__ in ("DatasetDict", "IterableDatasetDict")


def parse_hub_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``NAME[:CONFIG[:SPLIT]]`` -> (name, config, split); empty parts are None."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise UserError(f"hf:{spec}: expected hf:NAME[:CONFIG[:SPLIT]], e.g. hf:shangrilar/ko_text2sql:clean:train.")
    name = parts[0]
    config = parts[1] if len(parts) > 1 and parts[1] else None
    split = parts[2] if len(parts) > 2 and parts[2] else None
    return name, config, split


def _read_hub(spec: str) -> RawTable:
    name, config, split = parse_hub_spec(spec)
    datasets = _import_datasets(f"Loading hf:{spec}")
    label = f"hf:{spec}"
    local = Path(name)
    offline = not local.exists() and not hub_reachable()
    try:
        with _offline_mode(datasets, offline):  # a cached copy still loads; no minute of retries
            loaded = datasets.load_dataset(name, config, split=split)
    except Exception as exc:  # datasets raises many types: ConnectionError, DatasetNotFoundError, ...
        text = _first_line(exc)
        if offline or isinstance(exc, (ConnectionError, TimeoutError)) or _looks_offline(text):
            raise UserError(
                f"{label}: the Hugging Face hub cannot be reached to load dataset {name!r} and no cached "
                "copy exists; save it with datasets' save_to_disk where there is network and pass that folder."
            ) from None
        raise UserError(f"{label}: cannot load dataset {name!r} ({text}).") from None
    folder = local.resolve() if local.exists() else None
    prefix = f"hf:{name}:{config or ''}:"
    return _table_from_dataset(loaded, label, folder, prefix + "SPLIT")


@contextmanager
def _offline_mode(datasets: Any, enabled: bool) -> Iterator[None]:
    """Turn on the datasets/huggingface_hub offline flags for one call when the hub is unreachable."""
    if not enabled:
        yield
        return
    import huggingface_hub.constants as hub_constants

    saved = (datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE)
    datasets.config.HF_HUB_OFFLINE = hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, hub_constants.HF_HUB_OFFLINE = saved


def _looks_offline(text: str) -> bool:
    lowered = text.lower()
    return any(k in lowered for k in ("offline", "couldn't reach", "connection", "resolve", "network", "timed out"))
