"""Pure SQL functions over sqlglot ASTs: features, hardness, normalize, compare, guard."""
