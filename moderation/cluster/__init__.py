"""The only code that imports Ray: batcher and stream actors, the stream manager, placement, the re-scan pool."""
