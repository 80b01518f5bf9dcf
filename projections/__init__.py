"""Projections: documents built from the journal's state, and the files that hold them.

The builders are pure (``State`` → document → bytes, and the ``Inspection`` report);
``write_atomic`` is the one way any projection reaches the disk (``write_chunks_atomic``,
its streaming twin, the history export's file);
``write_projections`` brings an archive's files in line with a state and says what changed;
``describe_files`` and ``verify_exports`` record and check the exports' files;
``projection_status`` judges the files against the journal; ``replay_journal``,
``rebuild_projections`` (``dmj replay``), ``inspect_archive`` (``dmj replay --inspect``) and
``plan_repair``/``apply_repair`` (``dmj repair``) read the journal. Formats:
``docs/projections.md``.
"""

from ._atomic import (
    DIR_MODE,
    FILE_MODE,
    make_dirs,
    move_folder,
    remove_durably,
    remove_temp_files,
    remove_tree,
    write_atomic,
    write_chunks_atomic,
)
from ._build import (
    BATCH_STATE,
    ID_HISTORY,
    archived_batch_state,
    build_batch_state,
    build_id_history,
    projection_files,
)
from ._documents import (
    BATCH_STATE_SCHEMA,
    BatchStateDoc,
    IdHistoryDoc,
    encode_document,
)
from ._exports import (
    DamagedExport,
    ExportsCheck,
    WholeExport,
    describe_files,
    recorded_exports,
    unfinished_exports,
    verify_exports,
    whole_exports_needed,
)
from ._files import (
    Change,
    Freshness,
    ProjectionChange,
    ProjectionStatus,
    projection_status,
    remove_projection_temps,
    write_projections,
)
from ._inspect import (
    BatchSummary,
    Inspection,
    JournalSummary,
    MessagesCheck,
    RuleSummary,
    RunSummary,
    build_inspection,
)
from ._losses import DmLoss, Losses, describe_losses
from ._repair import RepairAction, RepairDone, RepairPlan, apply_repair, plan_repair
from ._replay import JOURNAL, Rebuild, inspect_archive, rebuild_projections, replay_journal

__all__ = [
    "BATCH_STATE",
    "BATCH_STATE_SCHEMA",
    "DIR_MODE",
    "FILE_MODE",
    "ID_HISTORY",
    "JOURNAL",
    "BatchStateDoc",
    "BatchSummary",
    "Change",
    "DamagedExport",
    "DmLoss",
    "ExportsCheck",
    "Freshness",
    "IdHistoryDoc",
    "Inspection",
    "JournalSummary",
    "Losses",
    "MessagesCheck",
    "ProjectionChange",
    "ProjectionStatus",
    "Rebuild",
    "RepairAction",
    "RepairDone",
    "RepairPlan",
    "RuleSummary",
    "RunSummary",
    "WholeExport",
    "apply_repair",
    "archived_batch_state",
    "build_batch_state",
    "build_id_history",
    "build_inspection",
    "describe_files",
    "describe_losses",
    "encode_document",
    "inspect_archive",
    "make_dirs",
    "move_folder",
    "plan_repair",
    "projection_files",
    "projection_status",
    "rebuild_projections",
    "recorded_exports",
    "remove_durably",
    "remove_projection_temps",
    "remove_temp_files",
    "remove_tree",
    "replay_journal",
    "unfinished_exports",
    "verify_exports",
    "whole_exports_needed",
    "write_atomic",
    "write_chunks_atomic",
    "write_projections",
]
