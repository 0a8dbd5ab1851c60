-- The session counts of fct_courses add up to the sessions of fct_sessions, course by course.
with

from_sessions as (
    select
        patient_id,
        course_number,
        count(*) as sessions,
        sum(case when phase = 'induction' then 1 else 0 end) as induction_sessions
    from {{ ref('fct_sessions') }}
    group by patient_id, course_number
)

select
    courses.patient_id,
    courses.course_number,
    courses.sessions,
    from_sessions.sessions as sessions_in_fct_sessions
from {{ ref('fct_courses') }} as courses
left join from_sessions
    on
        courses.patient_id = from_sessions.patient_id
        and courses.course_number = from_sessions.course_number
where
    from_sessions.sessions is null
    or courses.sessions != from_sessions.sessions
    or courses.induction_sessions != from_sessions.induction_sessions
