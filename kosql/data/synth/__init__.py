"""The bundled Korean Text2SQL dataset: a deterministic generator with real SQLite databases.

``generate_dataset(out_dir, seed=0, size='full')`` writes train/dev/test JSONL, ``dbs/*.sqlite`` and
``stats.md``; ``bundled_dataset(size='small')`` returns a cached copy, generated on first use.
"""

from kosql.data.synth.build import (
    FOCUS_TAGS,
    GENERATOR_VERSION,
    SIZES,
    SynthSummary,
    bundled_dataset,
    generate_dataset,
    parse_focus,
)

__all__ = ["FOCUS_TAGS", "GENERATOR_VERSION", "SIZES", "SynthSummary", "bundled_dataset",
           "generate_dataset", "parse_focus"]
