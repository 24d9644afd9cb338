"""Selection: strata and ranks (``strata``), recipes and the selection arms (``selection``),
comparing arms and thresholds (``compare``) and how well scores find defects (``detection``)."""
