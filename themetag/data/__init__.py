"""Data and labels: reading a user's CSV, expanding `Themes` into one column per theme, and the
ledger of label-review decisions that later runs replay."""
