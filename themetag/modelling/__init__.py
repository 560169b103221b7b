"""Model families (estimators and their search spaces) and the candidates: one family on one space."""
