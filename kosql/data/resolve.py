"""One dataset resolver for every command: ``bundled:<size>[+comments]``, a folder or a file.

``kosql train`` (``data.train``/``data.dev``), the quickstart, sweeps, ``kosql generate``, ``kosql
eval`` and ``kosql judge`` all name their rows with the same spec:

* ``bundled:<size>`` (``bundled:<size>+comments``: Korean column/table comments in the DDL): the
  bundled synthetic dataset's ``<split>.jsonl`` (generated on first use);
* ``bundled:varied`` (rows over a few hundred generated schemas) and ``bundled:mix`` (``small``'s
  train rows and the varied ones interleaved): their ``test`` split is ``bundled:small``'s;
* a folder holding ``<split>.jsonl``: that file;
* anything else :func:`kosql.data.load.load_examples` reads (a data file, a Spider folder, a
  ``datasets.save_to_disk`` folder, ``hf:NAME``) as it is.

A relative ``db_path`` is made absolute once, by the loader, against the data file's folder.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kosql.data.rows import Example
from kosql.errors import UserError

BUNDLED_PREFIX = "bundled:"


def bundled_spec(spec: str, field_name: str) -> tuple[str, bool] | None:
    """``(size, comments)`` of a ``bundled:<size>[+comments]`` spec; None when ``spec`` is a path.
    Raises UserError naming ``field_name`` for an unknown size or variant."""
    if not (spec.startswith(BUNDLED_PREFIX) or spec == "bundled"):
        return None
    size, plus, extra = (spec.partition(":")[2] or "small").partition("+")
    if plus and extra != "comments":
        raise UserError(f"{field_name}: unknown bundled dataset variant '+{extra}' (only '+comments').")
    if importlib.util.find_spec("kosql.data.synth") is None:
        raise UserError(f"{field_name}: the bundled dataset is not available in this install (kosql.data.synth).")
    from kosql.data.synth import SIZES, VARIANTS

    if size in VARIANTS:
        if plus:
            raise UserError(f"{field_name}: 'bundled:{size}' has no '+comments' variant (its schemas mix both).")
        return size, False
    if size not in SIZES:
        if size in bundled_database_names():
            raise UserError(f"{field_name} {spec}: {size!r} is a bundled database (for --db); {field_name} takes "
                            f"a bundled dataset size: {', '.join(SIZES)}.")
        raise UserError(f"{field_name}: bundled dataset size must be one of {', '.join((*SIZES, *VARIANTS))}, "
                        f"not {size!r}.")
    return size, bool(plus)


def bundled_database_names() -> list[str]:
    """The databases of the bundled dataset (``--db bundled:<name>``), known without generating it."""
    from kosql.data.synth.catalog2 import DOMAINS

    return sorted(d.db_id for d in DOMAINS)


def _local_source(spec: str, split: str, field_name: str) -> str | Path:
    if spec.startswith("hf:"):
        return spec
    path = Path(spec).expanduser()
    if path.is_dir() and (path / f"{split}.jsonl").is_file():
        return path / f"{split}.jsonl"
    if not path.exists():
        shown = path / f"{split}.jsonl" if spec.endswith("/") else path
        raise UserError(f"{field_name}: dataset file '{shown}' does not exist.")
    return path


def check_source(spec: str, split: str, *, field_name: str = "--data") -> None:
    """Raise the UserError :func:`resolve_source` would, without generating the bundled dataset
    (so a run can refuse a bad spec before any work)."""
    if bundled_spec(spec, field_name) is None:
        _local_source(spec, split, field_name)


def resolve_source(spec: str, split: str = "test", *, field_name: str = "--data") -> str | Path:
    """What :func:`kosql.data.load.load_examples` should read for ``spec`` (see the module docstring)."""
    bundled = bundled_spec(spec, field_name)
    if bundled is None:
        return _local_source(spec, split, field_name)
    from kosql.data.synth import VARIANTS, bundled_dataset, varied_dataset

    if bundled[0] in VARIANTS:
        path = Path(varied_dataset(bundled[0])) / f"{split}.jsonl"
    else:
        path = Path(bundled_dataset(size=bundled[0], comments=bundled[1])) / f"{split}.jsonl"
    if not path.exists():
        raise UserError(f"{field_name}: dataset file '{path}' does not exist.")
    return path


def load_dataset(spec: str, split: str = "test", *, field_name: str = "--data") -> list[Example]:
    """The rows of ``spec`` (``split`` for a bundled dataset or a folder of splits); UserError when
    there are none."""
    from kosql.data.load import load_examples

    source = resolve_source(spec, split, field_name=field_name)
    rows = load_examples(source)
    if not rows:
        raise UserError(f"{field_name}: dataset '{source}' has no rows.")
    return rows


def check_db_paths(examples: list[Example], source: str) -> None:
    """UserError naming the first row whose (already resolved) ``db_path`` is not a file."""
    seen: dict[str, bool] = {}
    for ex in examples:
        db = ex.db_path
        if db is None:
            continue
        if db not in seen:
            seen[db] = Path(db).is_file()
        if not seen[db]:
            raise UserError(f"{source}: row {ex.id!r} has db_path {db!r}, which does not exist.")
