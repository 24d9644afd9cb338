"""``python -m qaq.cli ...`` (background jobs start `qaq score` so)."""

from qaq.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
