"""Feature spaces (TF-IDF, sentence embeddings, both side by side) and the ONNX sentence encoder."""
