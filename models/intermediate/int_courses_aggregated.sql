-- One row per treatment course: its dates, session counts and whether it completed induction
-- (induction_sessions induction sessions), with the first session of the patient's next course.
with

sessions as (
    select * from {{ ref('int_sessions_numbered') }}
),

courses as (
    select
        patient_id,
        course_number,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        max(case when phase = 'induction' then session_date end) as last_induction_session_date,
        cast(count(*) as {{ dbt.type_int() }}) as sessions,
        cast(sum(case when phase = 'induction' then 1 else 0 end) as {{ dbt.type_int() }})
            as induction_sessions,
        cast(sum(case when phase = 'maintenance' then 1 else 0 end) as {{ dbt.type_int() }})
            as maintenance_sessions,
        cast(sum(case when completed then 1 else 0 end) as {{ dbt.type_int() }}) as completed_sessions,
        max(case when session_number = 1 then route end) as first_session_route
    from sessions
    group by patient_id, course_number
)

select
    patient_id,
    course_number,
    first_session_date,
    last_session_date,
    last_induction_session_date,
    lead(first_session_date) over (
        partition by patient_id
        order by course_number
    ) as next_course_first_session_date,
    sessions,
    induction_sessions,
    maintenance_sessions,
    completed_sessions,
    induction_sessions >= {{ var('induction_sessions') }} as completed_induction,
    first_session_route
from courses
