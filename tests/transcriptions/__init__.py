"""Faithful transcriptions of the official and third-party code our files must satisfy (each names its source).

They are test oracles: the code is kept as the source has it (names, loops, float32 torch tensors), changed only
where noted (a path parameter instead of a hard-coded folder, returning numbers instead of printing them).
"""
