"""The Ray-free host: one per-stream analyser for live streams and files, batcher clients,
queues, clocks, alerts, the local pool."""
