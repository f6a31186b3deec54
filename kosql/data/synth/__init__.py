"""The bundled Korean Text2SQL dataset: a deterministic generator with real SQLite databases.

``generate_dataset(out_dir, seed=0, size='full')`` writes train/dev/test JSONL, ``dbs/*.sqlite`` and
``stats.md``; ``bundled_dataset(size='small')`` returns a cached copy, generated on first use.
``varied_dataset('varied' | 'mix')`` does the same for rows over generated schemas
(:mod:`kosql.data.synth.varied`), which run the templates on any schema the way
:mod:`kosql.data.synth.infer` reads it.
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
from kosql.data.synth.varied import VARIANTS, VariedSummary, generate_mix, generate_varied, varied_dataset

__all__ = ["FOCUS_TAGS", "GENERATOR_VERSION", "SIZES", "VARIANTS", "SynthSummary", "VariedSummary",
           "bundled_dataset", "generate_dataset", "generate_mix", "generate_varied", "parse_focus",
           "varied_dataset"]
