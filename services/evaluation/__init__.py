"""Evaluation (standard chapter 7): 表A.1 figures with drill-down, 表B.1 scoring, the complaint
channel, and the report. The API and the CLI call these functions; none of them commits.

(A package `models/evaluation/` would shadow the tables in `models/evaluation.py`, hence the name.)
"""

from services.complaints import service as complaints
from services.evaluation.appendix_a import (
    appendix_a,
    appendix_a_by_quarter,
    appendix_a_by_year,
    brokered_deals,
    drill_down,
    is_brokered,
    last_full_year,
    latest_full_year,
    records_as_of,
)
from services.evaluation.appendix_b import (
    DEFAULT_SCHEME,
    AppendixB,
    ScoringScheme,
    SurveySatisfaction,
    appendix_b,
    create_period,
    score_item,
    survey_satisfaction,
)
from services.evaluation.charts import trend_grid_png, trend_png
from services.evaluation.indicators import (
    APPENDIX_A,
    INDICATORS_BY_KEY,
    STANDARD_INDICATORS,
    AppendixA,
    DrillRecord,
    Figure,
    Indicator,
    Period,
)
from services.evaluation.report import (
    EvaluationReport,
    build_report,
    drill_markdown,
    drill_rows,
    render_html,
    table_a_markdown,
    table_b_markdown,
    write_drill_csv,
    write_report,
    write_xlsx,
)

__all__ = [
    "APPENDIX_A",
    "DEFAULT_SCHEME",
    "INDICATORS_BY_KEY",
    "STANDARD_INDICATORS",
    "AppendixA",
    "AppendixB",
    "DrillRecord",
    "EvaluationReport",
    "Figure",
    "Indicator",
    "Period",
    "ScoringScheme",
    "SurveySatisfaction",
    "appendix_a",
    "appendix_a_by_quarter",
    "appendix_a_by_year",
    "appendix_b",
    "brokered_deals",
    "build_report",
    "complaints",
    "create_period",
    "drill_down",
    "drill_markdown",
    "drill_rows",
    "is_brokered",
    "last_full_year",
    "latest_full_year",
    "records_as_of",
    "render_html",
    "score_item",
    "survey_satisfaction",
    "table_a_markdown",
    "table_b_markdown",
    "trend_grid_png",
    "trend_png",
    "write_drill_csv",
    "write_report",
    "write_xlsx",
]
