"""The web UI: Jinja pages, sessions, forms and static assets."""
