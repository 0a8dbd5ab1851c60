-- One row per treatment course: dates, session counts, induction completion, the primary instrument and
-- the course's result on it (every course appears, so attrition can be counted from here).
with

courses as (
    select * from {{ ref('int_courses_aggregated') }}
),

patients as (
    select
        patient_id,
        site_id,
        indication
    from {{ ref('int_patients_classified') }}
),

primary_instruments as (
    select * from {{ ref('int_primary_instruments_chosen') }}
),

primary_responses as (
    select * from {{ ref('int_responses_evaluated') }}
    where is_primary
)

select
    courses.patient_id,
    courses.course_number,
    patients.site_id,
    patients.indication,
    courses.first_session_date,
    courses.last_session_date,
    courses.last_induction_session_date,
    courses.next_course_first_session_date,
    courses.next_course_first_session_date is null as is_latest_course,
    {{ days_between('courses.first_session_date', 'courses.last_session_date') }} as course_days,
    courses.sessions,
    courses.induction_sessions,
    courses.maintenance_sessions,
    courses.completed_sessions,
    courses.completed_induction,
    courses.first_session_route,
    primary_instruments.primary_instrument,
    primary_responses.baseline_score as primary_baseline_score,
    primary_responses.baseline_date as primary_baseline_date,
    primary_responses.endpoint_score as primary_endpoint_score,
    primary_responses.endpoint_date as primary_endpoint_date,
    primary_responses.pct_change as primary_pct_change,
    coalesce(primary_responses.evaluable, false) as primary_evaluable,
    case
        when primary_responses.patient_id is null then 'no_baseline'
        else primary_responses.not_evaluable_reason
    end as primary_not_evaluable_reason,
    primary_responses.responder as primary_responder,
    primary_responses.remitter as primary_remitter
from courses
left join patients
    on courses.patient_id = patients.patient_id
left join primary_instruments
    on
        courses.patient_id = primary_instruments.patient_id
        and courses.course_number = primary_instruments.course_number
left join primary_responses
    on
        courses.patient_id = primary_responses.patient_id
        and courses.course_number = primary_responses.course_number
