"""Files in and out: datasets (``datasets``), score files (``scorefile``), selections (``export``)
and the labels kept beside a dataset (``labels``). No torch, no streamlit."""
