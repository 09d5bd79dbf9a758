"""Settings package: ``base`` holds everything; ``dev``, ``test`` and ``prod`` override a few values."""
