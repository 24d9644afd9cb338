"""Scoring: chat templates and layouts (``templates``), model specs (``models``), the CPU/GPU policy
(``hardware``), the torch kernels (``backend``), the engine that turns rows into RMI fields
(``engine``), its resumable cache (``cache``), the naive four-forward reference (``reference``)
and the Ray engine (``ray_engine``). The only sub-package that imports torch, and only when used."""
