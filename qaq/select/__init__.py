"""Selection: strata and ranks (``strata``), rank correlations (``correlations``), recipes
(``recipes``) and applying them (``selection``), comparing arms and thresholds (``compare``), how
well scores find defects (``detection``, with ROC/PR curves in ``curves``) and per-row warnings
(``flags``)."""
