"""Complaints (Reklamationen): a case raised from a delivered order, its photos, the lab's
decision and who pays (DOMAIN.md §8)."""
