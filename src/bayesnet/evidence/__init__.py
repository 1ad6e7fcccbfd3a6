"""Evidence: read what papers report, convert it to (log_hr, se), validate, select."""

from .conversions import (  # noqa: F401
    Effect,
    ci_from_log_hr_se,
    from_ci_only,
    from_hr_ci,
    from_hr_p,
    from_log_hr_se,
    from_logrank,
    from_medians,
    from_survival_proportions,
    invert,
    p_from_log_hr_se,
    z_for_level,
)
from .loading import load_evidence  # noqa: F401
from .selection import (  # noqa: F401
    KEEP_RULES,
    Selection,
    SelectionError,
    adjustment_rank,
    display_labels,
    load_selection,
    select,
    select_family,
    select_overlap,
)
from .table import EvidenceError, EvidenceTable, Problem, is_blank  # noqa: F401
from .validation import derive, parse_p, read_evidence  # noqa: F401
