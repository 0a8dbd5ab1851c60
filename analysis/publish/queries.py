"""The SQL of the published cubes: warehouse marts (attached as ``wh``) in, unsuppressed cells out.

Every query is a constant (composed from the constants below); values (weeks, thresholds, dose edges) travel
as named parameters.
"""

# Every cube is GROUP BY CUBE(site, indication, route) x ROLLUP(year, month): each filter combination and its
# 'All' rows, by month, by year and for all time. Courses (and their outcomes) count in the month of their
# first session, patients in the month of their first session, sessions and events in the session's month.
# Route is the session's for sessions and events, the course's first session's for courses.

# The filter columns of every cube row: a rolled-up dimension is 'All'. Shared by every cube below.
_FILTER_COLUMNS = """CASE WHEN grouping(site_id) = 1 THEN 'All' ELSE site_id END AS site,
    CASE WHEN grouping(indication) = 1 THEN 'All' ELSE indication END AS indication,
    CASE WHEN grouping(route) = 1 THEN 'All' ELSE route END AS route,
    CASE WHEN grouping(year) = 1 THEN 'All' ELSE year END AS period"""
_MONTH_COLUMN = "CASE WHEN grouping(month) = 1 THEN 'All' ELSE month END AS month"

COURSE_CUBE = f"""
WITH courses AS (
    SELECT c.site_id, c.indication, c.first_session_route AS route,
           strftime(c.first_session_date, '%Y') AS year, strftime(c.first_session_date, '%Y-%m') AS month,
           c.course_number = 1 AS first_course, p.dx_unmapped, c.completed_induction,
           c.primary_baseline_score IS NOT NULL AS with_baseline, c.primary_endpoint_score IS NOT NULL AS with_endpoint,
           c.primary_evaluable, c.primary_responder, c.primary_remitter
    FROM wh.marts.fct_courses AS c
    JOIN wh.marts.dim_patients AS p ON p.patient_id = c.patient_id
)
SELECT
    {_FILTER_COLUMNS},
    {_MONTH_COLUMN},
    count(*) FILTER (WHERE first_course)::BIGINT AS patients,
    count(*) FILTER (WHERE first_course AND dx_unmapped)::BIGINT AS patients_dx_unmapped,
    count(*)::BIGINT AS courses,
    count(*) FILTER (WHERE completed_induction)::BIGINT AS courses_completed_induction,
    count(*) FILTER (WHERE with_baseline)::BIGINT AS courses_with_baseline,
    count(*) FILTER (WHERE with_endpoint)::BIGINT AS courses_with_endpoint,
    count(*) FILTER (WHERE primary_evaluable)::BIGINT AS courses_evaluable,
    count(*) FILTER (WHERE primary_responder)::BIGINT AS responders,
    count(*) FILTER (WHERE primary_remitter)::BIGINT AS remitters
FROM courses
GROUP BY CUBE(site_id, indication, route), ROLLUP(year, month)
"""  # noqa: S608 - only this module's constants are interpolated


# Kaplan-Meier per cell (fct_durability, primary instrument): the product-limit estimate and Greenwood's
# sum at each distinct day, read off at whole weeks (0..$curve_weeks for periods, $trend_weeks for months),
# with the number still at risk on that day (days_to_event >= 7 x week) and the losses of response up to it
# (never published: they decide which estimates may be shown, see analysis/publish/tables.py).
KM_GRID = f"""
WITH durations AS (
    SELECT d.site_id, d.indication, c.first_session_route AS route,
           strftime(c.first_session_date, '%Y') AS year, strftime(c.first_session_date, '%Y-%m') AS month,
           d.days_to_event, d.lost_response
    FROM wh.marts.fct_durability AS d
    JOIN wh.marts.fct_courses AS c ON c.patient_id = d.patient_id AND c.course_number = d.course_number
    WHERE d.is_primary
),
steps AS (
    SELECT
        {_FILTER_COLUMNS},
        {_MONTH_COLUMN},
        days_to_event AS t, count(*)::DOUBLE AS leaving, (count(*) FILTER (WHERE lost_response))::DOUBLE AS lost
    FROM durations
    GROUP BY CUBE(site_id, indication, route), ROLLUP(year, month), days_to_event
),
risk AS (
    SELECT *, sum(leaving) OVER (PARTITION BY site, indication, route, period, month ORDER BY t DESC) AS at_risk
    FROM steps
),
curve AS (
    SELECT site, indication, route, period, month, t,
        sum(CASE WHEN lost < at_risk THEN ln(1 - lost / at_risk) ELSE 0 END) OVER cell AS log_surv,
        bool_or(lost >= at_risk) OVER cell AS exhausted,
        sum(CASE WHEN lost < at_risk THEN lost / (at_risk * (at_risk - lost)) ELSE 0 END) OVER cell AS greenwood,
        sum(lost) OVER cell AS lost
    FROM risk
    WINDOW cell AS (PARTITION BY site, indication, route, period, month ORDER BY t ROWS UNBOUNDED PRECEDING)
),
grid AS (
    SELECT cells.*, weeks.week, weeks.week * 7 AS day
    FROM (SELECT DISTINCT site, indication, route, period, month FROM steps) AS cells
    CROSS JOIN range(0, $curve_weeks + 1) AS weeks(week)
    WHERE cells.month = 'All' OR list_contains($trend_weeks, weeks.week)
),
surv AS (
    SELECT g.*, k.log_surv, k.exhausted, k.greenwood, k.lost
    FROM grid AS g ASOF LEFT JOIN curve AS k
      ON g.site = k.site AND g.indication = k.indication AND g.route = k.route
     AND g.period = k.period AND g.month = k.month AND g.day >= k.t
)
SELECT s.site, s.indication, s.route, s.period, s.month, s.week::INTEGER AS week,
    CASE WHEN s.exhausted THEN 0.0 ELSE exp(coalesce(s.log_surv, 0.0)) END AS surv,
    coalesce(s.greenwood, 0.0) AS greenwood,
    coalesce(s.lost, 0)::BIGINT AS lost,
    coalesce(r.at_risk, 0)::BIGINT AS at_risk
FROM surv AS s ASOF LEFT JOIN risk AS r
  ON s.site = r.site AND s.indication = r.indication AND s.route = r.route
 AND s.period = r.period AND s.month = r.month AND s.day <= r.t
"""  # noqa: S608 - only this module's constants are interpolated


# Dose band: the index of the band among $dose_edges (mg/kg), null without a weight. Severe hypertension is a
# session whose peak blood pressure reached the derived-hypertension thresholds, reported or not (Yale 2024).
# Two GROUP BYs joined by UNION ALL rather than one GROUPING SETS list: DuckDB 2.0.1 took 40 times longer
# (20 s against 0.5 s at 1M patients) on the mixed list.
SESSION_CUBE = f"""
WITH sessions AS (
    SELECT site_id, indication, route,
           strftime(session_date, '%Y') AS year, strftime(session_date, '%Y-%m') AS month,
           CASE WHEN dose_mg_per_kg IS NOT NULL
                THEN len(list_filter($dose_edges, lambda e: e <= dose_mg_per_kg)) END AS dose_band,
           coalesce(sbp_max >= $sbp_threshold OR dbp_max >= $dbp_threshold, false) AS severe_hypertension,
           vitals_complete, sbp_rise_mmhg, cadss_total
    FROM wh.marts.fct_sessions
)
SELECT
    {_FILTER_COLUMNS},
    {_MONTH_COLUMN},
    'All' AS dose_band,
    count(*)::BIGINT AS sessions,
    count(*) FILTER (WHERE severe_hypertension)::BIGINT AS sessions_severe_hypertension,
    count(*) FILTER (WHERE NOT vitals_complete)::BIGINT AS sessions_missing_vitals,
    count(sbp_rise_mmhg)::BIGINT AS sessions_with_sbp_rise,
    avg(sbp_rise_mmhg) AS sbp_rise_mean, stddev_samp(sbp_rise_mmhg) AS sbp_rise_sd,
    count(cadss_total)::BIGINT AS sessions_with_cadss,
    avg(cadss_total) AS cadss_mean, stddev_samp(cadss_total) AS cadss_sd
FROM sessions
GROUP BY CUBE(site_id, indication, route), ROLLUP(year, month)
UNION ALL
SELECT
    {_FILTER_COLUMNS},
    'All' AS month,
    CASE WHEN dose_band IS NULL THEN 'unknown' ELSE dose_band::VARCHAR END AS dose_band,
    count(*)::BIGINT AS sessions,
    count(*) FILTER (WHERE severe_hypertension)::BIGINT AS sessions_severe_hypertension,
    count(*) FILTER (WHERE NOT vitals_complete)::BIGINT AS sessions_missing_vitals,
    count(sbp_rise_mmhg)::BIGINT AS sessions_with_sbp_rise,
    avg(sbp_rise_mmhg) AS sbp_rise_mean, stddev_samp(sbp_rise_mmhg) AS sbp_rise_sd,
    count(cadss_total)::BIGINT AS sessions_with_cadss,
    avg(cadss_total) AS cadss_mean, stddev_samp(cadss_total) AS cadss_sd
FROM sessions
GROUP BY CUBE(site_id, indication, route), ROLLUP(year), dose_band
"""  # noqa: S608 - only this module's constants are interpolated


EVENT_CUBE = f"""
WITH events AS (
    SELECT site_id, indication, route, strftime(session_date, '%Y') AS year,
           strftime(session_date, '%Y-%m') AS month, event_term, source
    FROM wh.marts.fct_adverse_events
)
SELECT
    {_FILTER_COLUMNS},
    {_MONTH_COLUMN},
    CASE WHEN grouping(event_term) = 1 THEN 'All' ELSE event_term END AS event_term,
    CASE WHEN grouping(source) = 1 THEN 'All' ELSE source END AS source,
    count(*)::BIGINT AS events
FROM events
GROUP BY CUBE(site_id, indication, route), ROLLUP(year, month), CUBE(event_term, source)
"""  # noqa: S608 - only this module's constants are interpolated


# Courses with a baseline at or above min_baseline on their primary instrument (evaluable, or short only of
# an endpoint); per week after the first session, the course's latest score of that instrument as
# marts.fct_assessment_scores places scores on courses (the mart `kow analyze` fits trajectories on).
# Weeks are whole periods: week w holds days 7(w-1)+1 .. 7w.
TRAJECTORY_CUBE = f"""
WITH courses AS (
    SELECT patient_id, course_number, site_id, indication, first_session_route AS route,
           strftime(first_session_date, '%Y') AS year, primary_baseline_score AS baseline
    FROM wh.marts.fct_courses
    WHERE primary_baseline_score IS NOT NULL
      AND (primary_not_evaluable_reason IS NULL OR primary_not_evaluable_reason = 'no_endpoint')
),
weekly AS (
    SELECT c.site_id, c.indication, c.route, c.year,
           ceil(a.days_since_first_session / 7)::INTEGER AS week,
           (arg_max(a.total_score, (a.assessed_on, a.assessment_id)) - any_value(c.baseline))
               / any_value(c.baseline) AS pct_change
    FROM courses AS c
    JOIN wh.marts.fct_assessment_scores AS a
      ON a.patient_id = c.patient_id AND a.course_number = c.course_number AND a.is_primary
     AND a.days_since_first_session BETWEEN 1 AND $trajectory_days
    GROUP BY c.patient_id, c.course_number, c.site_id, c.indication, c.route, c.year, week
)
SELECT
    {_FILTER_COLUMNS},
    'All' AS month, week,
    count(*)::BIGINT AS courses, avg(pct_change) AS mean, stddev_samp(pct_change) AS sd
FROM weekly
GROUP BY CUBE(site_id, indication, route), ROLLUP(year), week
"""  # noqa: S608 - only this module's constants are interpolated


LOAD_HISTORY = """
SELECT row_number() OVER (ORDER BY l.started_at, l.load_id)::INTEGER AS load_number,
       strftime(l.finished_at, '%Y-%m') AS loaded_month, l.outcome,
       array_to_string(list_sort(l.site_ids), ', ') AS sites,
       count(f.table_name)::INTEGER AS files, coalesce(sum(f.row_count), 0)::BIGINT AS rows
FROM wh.raw.loads AS l
LEFT JOIN wh.raw.load_files AS f ON f.load_id = l.load_id
GROUP BY l.load_id, l.started_at, l.finished_at, l.outcome, l.site_ids
ORDER BY load_number
"""

SITES = """
SELECT site_id, any_value(site_name) AS site_name
FROM wh.marts.dim_patients
GROUP BY site_id
ORDER BY site_id
"""

# The publishing grid (analysis/publish/grid.py): the values each filter offers, from the seeds the marts were
# built with as well as from the data, so a value nobody has yet is offered (and suppressed), not missing.
INDICATIONS = """
SELECT indication FROM wh.seeds.icd10_indications
UNION SELECT indication FROM wh.marts.fct_courses
UNION SELECT indication FROM wh.marts.fct_sessions
UNION SELECT indication FROM wh.marts.fct_adverse_events
"""
ROUTES = """
SELECT route FROM wh.marts.fct_sessions
UNION SELECT first_session_route FROM wh.marts.fct_courses
"""
CALENDAR = """
SELECT strftime(min(session_date), '%Y-%m'), strftime(max(session_date), '%Y-%m') FROM wh.marts.fct_sessions
"""
# (term, whether a session's vitals can derive it): a term the seed cannot derive has no 'derived' rows.
EVENT_TERMS = """
SELECT event_term, bool_or(derivable) AS derivable
FROM (
    SELECT event_term, derivable FROM wh.seeds.event_terms
    UNION ALL SELECT DISTINCT event_term, source = 'derived' FROM wh.marts.fct_adverse_events
)
GROUP BY event_term
ORDER BY event_term
"""
