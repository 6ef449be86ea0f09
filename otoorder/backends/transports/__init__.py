"""Transports shared by the lab backends, written once (DESIGN.md §2).

A lab module combines a transport with its own payload format and answer parser; the
transport owns connections, timeouts and the classification of failures into
``TransientError`` / ``PermanentError`` / ``ConfigurationError``.
"""
