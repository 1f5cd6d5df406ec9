"""Media: upload checks, image and video processing, storage backends."""
