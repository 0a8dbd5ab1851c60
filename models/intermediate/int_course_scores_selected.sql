-- One row per course x instrument that has a baseline or an endpoint score.
-- baseline: the latest score with first_session_date - baseline_window_days <= assessed_on
--           <= first_session_date (a same-day score is pre-treatment);
-- endpoint: the latest score with first_session_date < assessed_on
--           <= last_induction_session_date + endpoint_window_days.
-- "Latest" orders by assessed_on, then assessment_id.
with

courses as (
    select
        patient_id,
        course_number,
        first_session_date,
        {{ add_days('first_session_date', '-1 * ' ~ var('baseline_window_days')) }} as baseline_window_start_date,
        {{ add_days('last_induction_session_date', var('endpoint_window_days')) }} as endpoint_window_end_date
    from {{ ref('int_courses_aggregated') }}
),

assessments as (
    select
        assessment_id,
        patient_id,
        assessed_on,
        instrument,
        total_score
    from {{ ref('stg_kow__assessments') }}
),

candidates as (
    select
        courses.patient_id,
        courses.course_number,
        assessments.instrument,
        assessments.assessment_id,
        assessments.assessed_on,
        assessments.total_score,
        assessments.assessed_on <= courses.first_session_date as is_baseline_candidate
    from courses
    inner join assessments
        on
            courses.patient_id = assessments.patient_id
            and courses.baseline_window_start_date <= assessments.assessed_on
            and courses.endpoint_window_end_date >= assessments.assessed_on
),

ranked as (
    select
        *,
        row_number() over (
            partition by patient_id, course_number, instrument, is_baseline_candidate
            order by assessed_on desc, assessment_id desc
        ) as recency_rank
    from candidates
)

select
    patient_id,
    course_number,
    instrument,
    max(case when is_baseline_candidate then assessment_id end) as baseline_assessment_id,
    max(case when is_baseline_candidate then total_score end) as baseline_score,
    max(case when is_baseline_candidate then assessed_on end) as baseline_date,
    max(case when not is_baseline_candidate then assessment_id end) as endpoint_assessment_id,
    max(case when not is_baseline_candidate then total_score end) as endpoint_score,
    max(case when not is_baseline_candidate then assessed_on end) as endpoint_date
from ranked
where recency_rank = 1
group by patient_id, course_number, instrument
