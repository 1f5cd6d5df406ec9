"""One module per incoming activity type; each exports `handle(activity) -> Outcome`."""
