"""The one fetch layer: the shared client, deadlines, body caps, decoding, error classes."""
