-- One row per course: its primary instrument (seed primary_instruments). Among the indication's
-- instruments, the most preferred one is chosen whose condition holds: an instrument flagged
-- requires_baseline_and_endpoint (MADRS for depression) only when the course has both a baseline and an
-- endpoint score on it, whatever their values; the others always.
with

courses as (
    select
        patient_id,
        course_number
    from {{ ref('int_courses_aggregated') }}
),

patients as (
    select
        patient_id,
        indication
    from {{ ref('int_patients_classified') }}
),

primary_instruments as (
    select * from {{ ref('primary_instruments') }}
),

scores as (
    select * from {{ ref('int_course_scores_selected') }}
),

candidates as (
    select
        courses.patient_id,
        courses.course_number,
        patients.indication,
        primary_instruments.instrument,
        row_number() over (
            partition by courses.patient_id, courses.course_number
            order by primary_instruments.preference asc, primary_instruments.instrument asc
        ) as preference_rank
    from courses
    inner join patients
        on courses.patient_id = patients.patient_id
    inner join primary_instruments
        on patients.indication = primary_instruments.indication
    left join scores
        on
            courses.patient_id = scores.patient_id
            and courses.course_number = scores.course_number
            and primary_instruments.instrument = scores.instrument
    where
        not coalesce(primary_instruments.requires_baseline_and_endpoint, false)
        or (scores.baseline_score is not null and scores.endpoint_score is not null)
)

select
    patient_id,
    course_number,
    indication,
    instrument as primary_instrument
from candidates
where preference_rank = 1
