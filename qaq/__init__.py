"""qaq: select high-quality synthetic code instructions with QAQ (Reverse Mutual Information).

``import qaq`` stays light: it imports neither torch nor streamlit. The scoring backend
(:mod:`qaq.scoring.backend`) imports torch when it is used; the app imports streamlit.
"""

from __future__ import annotations

__version__ = "0.1.0"
