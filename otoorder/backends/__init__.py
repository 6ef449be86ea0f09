"""Ordering backends: one small module per lab interface, one protocol for all.

This package imports no models: a backend receives an ``OrderDocument`` and its validated
options, and returns a ``DispatchResult`` or raises a ``BackendError``.
"""
