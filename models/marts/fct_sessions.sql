-- One row per session, with its course, phase, dose per kg, vitals and the adverse events it had.
with

numbered as (
    select * from {{ ref('int_sessions_numbered') }}
),

sessions as (
    select * from {{ ref('stg_kow__sessions') }}
),

patients as (
    select
        patient_id,
        site_id,
        indication
    from {{ ref('int_patients_classified') }}
),

reported_events as (
    select
        session_id,
        count(*) as events
    from {{ ref('stg_kow__adverse_events') }}
    group by session_id
),

derived_events as (
    select
        session_id,
        count(*) as events
    from {{ ref('int_adverse_events_derived') }}
    group by session_id
)

select
    numbered.session_id,
    numbered.patient_id,
    patients.site_id,
    patients.indication,
    numbered.course_number,
    numbered.session_number,
    numbered.phase,
    numbered.session_date,
    numbered.course_first_session_date,
    numbered.days_since_course_start,
    cast(floor(numbered.days_since_course_start / 7.0) as {{ dbt.type_int() }}) as weeks_since_course_start,
    numbered.days_since_first_session,
    cast(floor(numbered.days_since_first_session / 7.0) as {{ dbt.type_int() }}) as weeks_since_first_session,
    sessions.route,
    sessions.dose_mg,
    sessions.weight_kg,
    sessions.dose_mg / nullif(sessions.weight_kg, 0) as dose_mg_per_kg,
    sessions.duration_min,
    sessions.sbp_pre,
    sessions.dbp_pre,
    sessions.hr_pre,
    sessions.sbp_max,
    sessions.dbp_max,
    sessions.hr_max,
    sessions.spo2_min,
    sessions.sbp_max - sessions.sbp_pre as sbp_rise_mmhg,
    sessions.dbp_max - sessions.dbp_pre as dbp_rise_mmhg,
    sessions.hr_max - sessions.hr_pre as hr_rise_bpm,
    sessions.cadss_total,
    sessions.completed,
    (
        sessions.sbp_pre is not null
        and sessions.dbp_pre is not null
        and sessions.hr_pre is not null
        and sessions.sbp_max is not null
        and sessions.dbp_max is not null
        and sessions.hr_max is not null
        and sessions.spo2_min is not null
    ) as vitals_complete,
    cast(coalesce(reported_events.events, 0) as {{ dbt.type_int() }}) as reported_adverse_events,
    cast(coalesce(derived_events.events, 0) as {{ dbt.type_int() }}) as derived_adverse_events,
    sessions.load_id
from numbered
inner join sessions
    on numbered.session_id = sessions.session_id
left join patients
    on numbered.patient_id = patients.patient_id
left join reported_events
    on numbered.session_id = reported_events.session_id
left join derived_events
    on numbered.session_id = derived_events.session_id
