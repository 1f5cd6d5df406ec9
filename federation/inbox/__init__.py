"""Receiving activities: the thin inbox, the dispatch table and one handler per activity."""
