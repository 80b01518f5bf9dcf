"""The pure core of dmj: events, state, decisions, ports and the error tree.

Nothing here touches files, the network, subprocesses or the clock (``tests/test_layering.py``
holds that line); the async driver executes decisions through injected ports.
"""
