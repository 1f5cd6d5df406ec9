"""The arq worker and its jobs."""
