"""The sample-data generator behind ``sample_data/generate.py``, split by template family.

* ``settings``: seed, row counts and file names.
* ``text``, ``vocab``: shared phrasing and answer helpers, word lists.
* ``registry``, ``templates``: template registration and the ordered list of all clean templates.
* ``strings`` ... ``java_lang``: one module of clean-row templates per task family.
* ``defects``, ``chat``: defective rows and the chat sample.
* ``build``: assembles the rows and writes the ``.jsonl`` files.
"""
