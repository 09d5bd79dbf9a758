"""Torch networks, training, scoring and labelling; importable without Django except at task entry points."""
