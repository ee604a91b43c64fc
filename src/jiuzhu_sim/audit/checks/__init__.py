"""Audit checks (CONTRACT §6), one module per family; ``registry.CHECKS`` lists them."""

from jiuzhu_sim.audit.checks.base import AuditContext
from jiuzhu_sim.audit.checks.registry import BY_CODE, CHECKS, Check

__all__ = ["AuditContext", "BY_CODE", "CHECKS", "Check"]
