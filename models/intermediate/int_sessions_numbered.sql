-- One row per session, numbered into courses. Sessions are ordered by session_date, then session_id;
-- a session starts a new course when it comes course_gap_days or more after the previous session.
-- The induction is the first induction_sessions sessions of a course that fall within
-- induction_window_days of its first session (day induction_window_days counts); the rest is maintenance.
-- Narrow on purpose (two sorts of the keys only); fct_sessions joins the vitals back.
with

sessions as (
    select
        session_id,
        patient_id,
        session_date,
        route,
        completed
    from {{ ref('stg_kow__sessions') }}
),

with_previous as (
    select
        *,
        lag(session_date) over patient_order as previous_session_date,
        row_number() over patient_order as patient_session_seq,
        first_value(session_date) over patient_order as patient_first_session_date
    from sessions
    window patient_order as (partition by patient_id order by session_date, session_id)
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
        -- the running count of course starts numbers the courses; the latest start so far is this
        -- session's course start
        sum(starts_course) over patient_so_far as course_number,
        max(case when starts_course = 1 then patient_session_seq end) over patient_so_far
            as course_start_seq,
        max(case when starts_course = 1 then session_date end) over patient_so_far
            as course_first_session_date
    from course_starts
    window patient_so_far as (
        partition by patient_id
        order by session_date, session_id
        rows between unbounded preceding and current row
    )
),

numbered as (
    select
        *,
        patient_session_seq - course_start_seq + 1 as session_number,
        {{ days_between('course_first_session_date', 'session_date') }} as days_since_course_start,
        {{ days_between('patient_first_session_date', 'session_date') }} as days_since_first_session
    from with_course
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
    completed
from numbered
