"""ActivityPub: signatures, discovery, conversion, inbox and delivery."""
