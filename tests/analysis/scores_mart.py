"""Stand-in for marts.fct_assessment_scores until the dbt model exists (asked for in issue #5's report).

Each score goes to the patient's latest course whose baseline window has opened by the score's date;
the columns are the ones requested from the models owner.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.definitions import load_definitions

SCORES_SQL = """
CREATE TABLE IF NOT EXISTS marts.fct_assessment_scores AS
SELECT a.patient_id, c.course_number, a.instrument, a.assessment_id, a.assessed_on, a.total_score,
       date_diff('day', c.first_session_date, a.assessed_on) / 7.0 AS weeks_since_first_session,
       c.indication, a.instrument = c.primary_instrument AS is_primary
FROM raw.assessments a
JOIN marts.fct_courses c
  ON c.patient_id = a.patient_id AND c.first_session_date - $window::INTEGER <= a.assessed_on
QUALIFY row_number() OVER (PARTITION BY a.assessment_id ORDER BY c.first_session_date DESC) = 1
"""


def add_scores_mart(warehouse: Path) -> None:
    """Create marts.fct_assessment_scores in a built warehouse unless the models already made it."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(SCORES_SQL, {"window": load_definitions().baseline_window_days})
    finally:
        con.close()
