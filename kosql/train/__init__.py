"""Fine-tuning: SFT (LoRA / QLoRA / full) with TRL, DPO from execution feedback, adapter merging.

Entry points (heavy libraries are imported inside them, never at import time):
``kosql.train.sft.train_sft(cfg)``, ``kosql.train.dpo.train_dpo(cfg)``,
``kosql.train.merge.merge_run(run_dir, out_dir)``; configs in ``kosql.train.config``.
"""
