-- One row per session, numbered into courses. Sessions are ordered by session_date, then session_id;
-- a session starts a new course when it comes course_gap_days or more after the previous session.
-- The induction is the first induction_sessions sessions of a course that fall within
-- induction_window_days of its first session (day induction_window_days counts); the rest is maintenance.
with

sessions as (
    select * from {{ ref('stg_kow__sessions') }}
),

with_previous as (
    select
        *,
        lag(session_date) over (
            partition by patient_id
            order by session_date, session_id
        ) as previous_session_date
    from sessions
),

course_starts as (
    select
        *,
        case
            when previous_session_date is null then 1
            when
                {{ days_between('previous_session_date', 'session_date') }}
                >= {{ var('course_gap_days') }}
                then 1
            else 0
        end as starts_course
    from with_previous
),

with_course as (
    select
        *,
        sum(starts_course) over (
            partition by patient_id
            order by session_date, session_id
            rows between unbounded preceding and current row
        ) as course_number
    from course_starts
),

within_course as (
    select
        *,
        row_number() over (
            partition by patient_id, course_number
            order by session_date, session_id
        ) as session_number,
        min(session_date) over (partition by patient_id, course_number) as course_first_session_date,
        min(session_date) over (partition by patient_id) as patient_first_session_date
    from with_course
),

with_offsets as (
    select
        *,
        {{ days_between('course_first_session_date', 'session_date') }} as days_since_course_start,
        {{ days_between('patient_first_session_date', 'session_date') }} as days_since_first_session
    from within_course
)

select
    session_id,
    patient_id,
    cast(course_number as {{ dbt.type_int() }}) as course_number,
    cast(session_number as {{ dbt.type_int() }}) as session_number,
    case
        when
            session_number <= {{ var('induction_sessions') }}
            and days_since_course_start <= {{ var('induction_window_days') }}
            then 'induction'
        else 'maintenance'
    end as phase,
    session_date,
    previous_session_date,
    course_first_session_date,
    patient_first_session_date,
    days_since_course_start,
    days_since_first_session,
    route,
    dose_mg,
    weight_kg,
    duration_min,
    sbp_pre,
    dbp_pre,
    hr_pre,
    sbp_max,
    dbp_max,
    hr_max,
    spo2_min,
    cadss_total,
    completed,
    load_id
from with_offsets
