"""Timelines: feed fan-out, feed reads and the other timelines."""
