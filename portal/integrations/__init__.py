"""External systems, one package each: a small port (Protocol) in the package's ``__init__``, a real adapter and a
local one speaking the same protocol. Configuration picks the adapter in one place (the package's factory);
business code imports the port and its factory, never an adapter module.
"""
