"""Audit look-back (回头看) over one-card payments: CONTRACT §5–6, POLICY.md §5–8."""
