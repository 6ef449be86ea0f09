"""Signals of the orders app for the apps above it (which orders must not import).

``lab_complaint_decision``: a lab reported its decision on the complaint behind a remake
order (sent by ``lab_updates.apply_status_update`` inside its transaction, once per decision)
with ``order`` (the remake order), ``decision`` (``ComplaintDecision``) and ``source``. The
complaints app applies it to the complaint (``otoorder.complaints.signals``).
"""

from django.dispatch import Signal

lab_complaint_decision = Signal()
