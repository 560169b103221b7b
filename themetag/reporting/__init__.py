"""What the pipeline reports: the results table, the Check-first list, errors and confusions,
plot data and the model card."""
