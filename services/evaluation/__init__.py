"""Evaluation (standard chapter 7): 表A.1 figures with drill-down, the annual plan, 表B.1 scoring
with evidence files, the report, the self-assessment and its sign-off. The API and the CLI call these functions; none of them commits."""

# ruff: noqa: F401 (the package re-exports its public names)
from services.evaluation.appendix_a import (
    appendix_a,
    appendix_a_by_quarter,
    is_brokered,
    last_full_year,
    latest_full_year,
    records_as_of,
)
from services.evaluation.appendix_b import (
    DEFAULT_SCHEME,
    ScoringScheme,
    appendix_b,
    create_period,
    score_item,
    survey_satisfaction,
)
from services.evaluation.charts import trend_charts, trend_svg
from services.evaluation.evidence import attach_evidence, sign_off
from services.evaluation.indicators import (
    APPENDIX_A,
    INDICATORS_BY_KEY,
    STANDARD_INDICATORS,
    AppendixA,
    Period,
)
from services.evaluation.plan import PlanReview, plan_review, set_target
from services.evaluation.report import (
    build_report,
    drill_markdown,
    render_html,
    table_a_markdown,
    table_b_markdown,
    write_drill_csv,
    write_report,
    write_xlsx,
)
from services.evaluation.self_assessment import self_assessment_xlsx
