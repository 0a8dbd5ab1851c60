-- One row per course x instrument with a baseline or an endpoint score: the response result, or why
-- there is none.
with

responses as (
    select * from {{ ref('int_responses_evaluated') }}
),

courses as (
    select
        patient_id,
        course_number,
        first_session_date,
        last_induction_session_date,
        completed_induction
    from {{ ref('int_courses_aggregated') }}
),

patients as (
    select
        patient_id,
        site_id,
        indication
    from {{ ref('int_patients_classified') }}
)

select
    responses.patient_id,
    responses.course_number,
    responses.instrument,
    responses.is_primary,
    patients.site_id,
    patients.indication,
    courses.first_session_date as course_first_session_date,
    courses.last_induction_session_date,
    courses.completed_induction,
    responses.baseline_assessment_id,
    responses.baseline_score,
    responses.baseline_date,
    responses.endpoint_assessment_id,
    responses.endpoint_score,
    responses.endpoint_date,
    {{ days_between('courses.first_session_date', 'responses.endpoint_date') }}
        as endpoint_days_since_first_session,
    cast(
        floor({{ days_between('courses.first_session_date', 'responses.endpoint_date') }} / 7.0)
        as {{ dbt.type_int() }}
    ) as endpoint_weeks_since_first_session,
    responses.min_baseline,
    responses.remission_max,
    responses.response_line_score,
    responses.pct_change,
    responses.evaluable,
    responses.not_evaluable_reason,
    responses.responder,
    responses.remitter
from responses
inner join courses
    on
        responses.patient_id = courses.patient_id
        and responses.course_number = courses.course_number
left join patients
    on responses.patient_id = patients.patient_id
