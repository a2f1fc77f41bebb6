"""The compliance app's write services, by concern; this module only gathers their names for callers.

- re-judging after writes: ``compliance.rejudge`` (``rejudge_now``, ``rejudge_on_commit``, ``bulk_changes``)
- sweeps: ``compliance.sweeps``; the clerks' digest after one: ``compliance.digest``
- parameters (rules', 督导 escalation's, 整改期限's): ``compliance.parameters``
- a reviewer's decisions on findings (waive, close, supervision actions): ``compliance.waivers``
"""

from __future__ import annotations

from .digest import DIGEST_LIST_MAX, sweep_digest_send
from .parameters import deadline_parameter_set, escalation_parameter_set, rule_parameter_set
from .rejudge import bulk_changes, rejudge_now, rejudge_on_commit, targets_for
from .sweeps import (
    DEFAULT_CHUNKS,
    REJUDGE_SWEEP_TRIGGER,
    SWEEP_RUNNING_MESSAGE,
    SWEEP_TAKEN_OVER,
    sweep_chunk_run,
    sweep_fail,
    sweep_finish,
    sweep_lease,
    sweep_plan,
    sweep_refusal,
    sweep_run,
    sweep_running,
    sweep_start,
    sweep_start_record,
)
from .waivers import finding_close_by_review, finding_waive, supervision_action_record

# The name bulk writers and tests have used for an explicit re-judge of rule id → target pks.
reevaluate = rejudge_now

__all__ = [
    "DEFAULT_CHUNKS",
    "DIGEST_LIST_MAX",
    "REJUDGE_SWEEP_TRIGGER",
    "SWEEP_RUNNING_MESSAGE",
    "SWEEP_TAKEN_OVER",
    "bulk_changes",
    "deadline_parameter_set",
    "escalation_parameter_set",
    "finding_close_by_review",
    "finding_waive",
    "reevaluate",
    "rejudge_now",
    "rejudge_on_commit",
    "rule_parameter_set",
    "supervision_action_record",
    "sweep_chunk_run",
    "sweep_digest_send",
    "sweep_fail",
    "sweep_finish",
    "sweep_lease",
    "sweep_plan",
    "sweep_refusal",
    "sweep_run",
    "sweep_running",
    "sweep_start",
    "sweep_start_record",
    "targets_for",
]
