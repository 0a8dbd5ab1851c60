-- One row per scored assessment, placed on the patient's course it belongs to: the latest course whose
-- baseline window had opened by the score's date. Feeds score trajectories (weeks since first session).
with

assessments as (
    select * from {{ ref('stg_kow__assessments') }}
),

courses as (
    select
        patient_id,
        course_number,
        indication,
        site_id,
        first_session_date,
        primary_instrument
    from {{ ref('fct_courses') }}
),

placed as (
    select
        assessments.patient_id,
        courses.course_number,
        courses.site_id,
        courses.indication,
        assessments.instrument,
        assessments.assessment_id,
        assessments.assessed_on,
        assessments.total_score,
        courses.first_session_date,
        assessments.instrument = courses.primary_instrument as is_primary
    from assessments
    inner join courses
        on
            assessments.patient_id = courses.patient_id
            and {{ add_days('courses.first_session_date', -var('baseline_window_days')) }}
            <= assessments.assessed_on
    qualify row_number() over (
            partition by assessments.assessment_id order by courses.first_session_date desc
        ) = 1
)

select
    patient_id,
    course_number,
    site_id,
    indication,
    instrument,
    is_primary,
    assessment_id,
    assessed_on,
    total_score,
    {{ days_between('first_session_date', 'assessed_on') }} as days_since_first_session,
    {{ days_between('first_session_date', 'assessed_on') }} / 7.0 as weeks_since_first_session
from placed
