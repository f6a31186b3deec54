"""The hand-written Korean dev set: questions.jsonl and the builder of its databases (build.py)."""
