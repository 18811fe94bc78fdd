"""The extractor's mirror (extractor^T): the decoder back to the input shape."""
