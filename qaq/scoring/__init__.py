"""Scoring: chat templates and layouts (``templates``), model specs (``models``), the CPU/GPU policy
(``hardware``), loading tokenizers, configs and weights (``loading``), pairs to token ids without a
model (``encoder``), the scoring model (``backend``) with its chunked LM head (``head``),
template-prefix reuse (``prefix``) and ``torch.compile`` of its layers (``compiling``), its error
(``errors``), the engine that turns rows into RMI fields (``engine``), its cost estimate
(``estimate``) and report (``report``: run metadata, truncated rows), its resumable cache
(``cache``), the naive four-forward reference (``reference``) and the Ray engine
(``ray_engine``). The only sub-package that imports torch, and only when used."""
