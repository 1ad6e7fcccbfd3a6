"""The probability-of-benefit report for guideline panels, in four jobs:

- `bayesnet.report.build`: `build_report` fits the spec and collects everything a panel
  reads into one dict (summary.json plus the design strata, the sensitivity analyses and
  the evidence base);
- `bayesnet.report.text`: `content` turns that dict into content blocks
  (`bayesnet.report.blocks`: Heading, Paragraph, Bullets, Notes, Table, Figure) whose every
  number is formatted (by `bayesnet.format`) from the dict; `methods_paragraph` and
  `grade_statements` write the Methods section and the GRADE-ready statements;
- `bayesnet.report.render`: `render_html` (Jinja2 templates with autoescaping, shipped in
  bayesnet/report/templates/) and `render_markdown` render the same blocks; figures are
  embedded as PNG data URIs, so report.html is one self-contained file whose only
  script is the what-if panel's (allowed by hash; no server, works offline);
- `bayesnet.report.output`: `write_report` writes the report directory atomically.
"""

from __future__ import annotations

from ..errors import DiagnosticsFailed  # noqa: F401  (re-exported)
from .blocks import Block, Bullets, Figure, Heading, Notes, Paragraph, Table, WhatIf
from .build import build_report
from .output import FOREST_MAX_ROWS, write_report
from .render import CSS, md_escape, render_html, render_markdown
from .text import content, grade_statements, methods_paragraph, selection_statements

_selection_statements = selection_statements  # the name tests and notebooks of issue 8 use

__all__ = ["build_report", "write_report", "content", "render_html", "render_markdown", "grade_statements",
           "methods_paragraph", "selection_statements", "md_escape", "CSS", "FOREST_MAX_ROWS",
           "Block", "Heading", "Paragraph", "Bullets", "Notes", "Table", "Figure", "WhatIf"]
