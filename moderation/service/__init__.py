"""The worker pool as a service: control API, authenticated publish hooks."""
