"""Files in and out: the format table and the one atomic writer (``files``), datasets (``datasets``),
inputs of a run: a file, a folder of files or a Hugging Face dataset (``inputs``), score files
(``scorefile``) and the record of the run they hold (``runrecord``), selections (``export``) and
the labels kept beside a dataset (``labels``). No torch, no streamlit."""
