"""Threshold rules: the precision-recall sweep, the rule that picks each theme's threshold, and
scoring at a threshold."""
