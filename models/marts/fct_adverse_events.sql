-- One row per adverse event, reported or derived from the session's vitals. A derived event has no
-- event_id, severity_grade, serious or resolved value: nobody graded it. serious_or_severe: marked serious or
-- graded at least var('serious_grade_min'); null when nobody said (derived, or neither field given).
with

reported as (
    select
        event_id as event_key,
        event_id,
        session_id,
        event_term,
        severity_grade,
        serious,
        resolved,
        'reported' as source,
        cast(null as {{ dbt.type_string() }}) as derived_rule
    from {{ ref('stg_kow__adverse_events') }}
),

derived as (
    select
        session_id || ':' || event_term as event_key,
        cast(null as {{ dbt.type_string() }}) as event_id,
        session_id,
        event_term,
        cast(null as {{ dbt.type_int() }}) as severity_grade,
        cast(null as {{ dbt.type_boolean() }}) as serious,
        cast(null as {{ dbt.type_boolean() }}) as resolved,
        'derived' as source,
        derived_rule
    from {{ ref('int_adverse_events_derived') }}
),

events as (
    select * from reported
    union all
    select * from derived
),

sessions as (
    select
        session_id,
        patient_id,
        course_number,
        session_number,
        phase,
        session_date,
        route
    from {{ ref('int_sessions_numbered') }}
),

patients as (
    select
        patient_id,
        site_id,
        indication
    from {{ ref('int_patients_classified') }}
)

select
    events.event_key,
    events.event_id,
    events.session_id,
    sessions.patient_id,
    patients.site_id,
    patients.indication,
    sessions.course_number,
    sessions.session_number,
    sessions.phase,
    sessions.session_date,
    sessions.route,
    events.event_term,
    events.severity_grade,
    events.serious,
    case
        when events.serious is null and events.severity_grade is null then null
        else
            coalesce(events.serious, false)
            or coalesce(events.severity_grade >= {{ var('serious_grade_min') }}, false)
    end as serious_or_severe,
    events.resolved,
    events.source,
    events.derived_rule
from events
left join sessions
    on events.session_id = sessions.session_id
left join patients
    on sessions.patient_id = patients.patient_id
