"""The loaders: what reads files for the audio thread while a show runs, ahead of where it plays
(stems.py: the stems' rings, kept filled from disk)."""
