"""pinhole's core: settings, tables, domain services, the client API and the app factory."""

import os

# Piccolo binds engines when tables are defined: point it at our configuration first.
os.environ.setdefault("PICCOLO_CONF", "node.piccolo_conf")
