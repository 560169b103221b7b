"""Label quality and the labelling loop: which labels look wrong, and which rows to label next."""
