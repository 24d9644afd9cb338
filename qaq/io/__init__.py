"""Files in and out: the format table and the one atomic writer (``files``), datasets (``datasets``:
the formats' records from ``readers``, the fields that hold Q and A from ``fieldmapping``, records
to texts and ids in ``pairs``, a well-formed flat file as columns at once in ``columnar``), inputs
of a run: a file, a folder of files or a Hugging Face dataset (``inputs``), score files
(``scorefile``) and the record of the run they hold (``runrecord``), selections (``export``; their
rows written as read: ``selectionfile``) and the labels kept beside a dataset (``labels``). No
torch, no streamlit."""
