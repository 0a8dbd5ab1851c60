-- Data quality per site and load: assessment completion at baseline and endpoint per course (on the
-- course's primary instrument), sessions missing vitals, and how many rows each load brought. Rows are
-- attributed to the load that brought the patient. Counts are unsuppressed: publishing applies
-- min_cell_size before anything reaches leadership.
with

patients as (
    select * from {{ ref('dim_patients') }}
),

sites as (
    select * from {{ ref('stg_kow__sites') }}
),

loads as (
    select * from {{ ref('stg_kow__loads') }}
),

courses as (
    select * from {{ ref('fct_courses') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

patient_counts as (
    select
        site_id,
        load_id,
        count(*) as patients,
        sum(case when courses = 0 then 1 else 0 end) as patients_without_sessions,
        sum(case when dx_unmapped then 1 else 0 end) as patients_dx_unmapped
    from patients
    group by site_id, load_id
),

course_counts as (
    select
        patients.site_id,
        patients.load_id,
        count(*) as courses,
        sum(case when courses.completed_induction then 1 else 0 end) as courses_completed_induction,
        sum(case when courses.primary_baseline_score is not null then 1 else 0 end)
            as courses_with_primary_baseline,
        sum(case when courses.primary_endpoint_score is not null then 1 else 0 end)
            as courses_with_primary_endpoint,
        sum(
            case
                when courses.primary_baseline_score is not null and courses.primary_endpoint_score is not null
                    then 1
                else 0
            end
        ) as courses_with_primary_baseline_and_endpoint,
        sum(case when courses.primary_evaluable then 1 else 0 end) as courses_primary_evaluable
    from courses
    inner join patients
        on courses.patient_id = patients.patient_id
    group by patients.site_id, patients.load_id
),

session_counts as (
    select
        patients.site_id,
        patients.load_id,
        count(*) as sessions,
        sum(case when not sessions.vitals_complete then 1 else 0 end) as sessions_missing_vitals,
        sum(case when sessions.sbp_max is null or sessions.dbp_max is null then 1 else 0 end)
            as sessions_missing_peak_bp,
        sum(case when sessions.spo2_min is null then 1 else 0 end) as sessions_missing_spo2,
        sum(case when sessions.weight_kg is null then 1 else 0 end) as sessions_missing_weight,
        sum(case when sessions.cadss_total is null then 1 else 0 end) as sessions_missing_cadss,
        sum(sessions.reported_adverse_events) as reported_adverse_events,
        sum(sessions.derived_adverse_events) as derived_adverse_events
    from sessions
    inner join patients
        on sessions.patient_id = patients.patient_id
    group by patients.site_id, patients.load_id
),

combined as (
    select
        patient_counts.site_id,
        patient_counts.load_id,
        patient_counts.patients,
        patient_counts.patients_without_sessions,
        patient_counts.patients_dx_unmapped,
        coalesce(course_counts.courses, 0) as courses,
        coalesce(course_counts.courses_completed_induction, 0) as courses_completed_induction,
        coalesce(course_counts.courses_with_primary_baseline, 0) as courses_with_primary_baseline,
        coalesce(course_counts.courses_with_primary_endpoint, 0) as courses_with_primary_endpoint,
        coalesce(course_counts.courses_with_primary_baseline_and_endpoint, 0)
            as courses_with_primary_baseline_and_endpoint,
        coalesce(course_counts.courses_primary_evaluable, 0) as courses_primary_evaluable,
        coalesce(session_counts.sessions, 0) as sessions,
        coalesce(session_counts.sessions_missing_vitals, 0) as sessions_missing_vitals,
        coalesce(session_counts.sessions_missing_peak_bp, 0) as sessions_missing_peak_bp,
        coalesce(session_counts.sessions_missing_spo2, 0) as sessions_missing_spo2,
        coalesce(session_counts.sessions_missing_weight, 0) as sessions_missing_weight,
        coalesce(session_counts.sessions_missing_cadss, 0) as sessions_missing_cadss,
        coalesce(session_counts.reported_adverse_events, 0) as reported_adverse_events,
        coalesce(session_counts.derived_adverse_events, 0) as derived_adverse_events
    from patient_counts
    left join course_counts
        on
            patient_counts.site_id = course_counts.site_id
            and patient_counts.load_id is not distinct from course_counts.load_id
    left join session_counts
        on
            patient_counts.site_id = session_counts.site_id
            and patient_counts.load_id is not distinct from session_counts.load_id
)

select
    combined.site_id,
    sites.site_name,
    combined.load_id,
    loads.source_path as load_source_path,
    loads.finished_at as load_finished_at,
    cast(combined.patients as {{ dbt.type_bigint() }}) as patients,
    cast(combined.patients_without_sessions as {{ dbt.type_bigint() }}) as patients_without_sessions,
    cast(combined.patients_dx_unmapped as {{ dbt.type_bigint() }}) as patients_dx_unmapped,
    cast(combined.courses as {{ dbt.type_bigint() }}) as courses,
    cast(combined.courses_completed_induction as {{ dbt.type_bigint() }}) as courses_completed_induction,
    cast(combined.courses_with_primary_baseline as {{ dbt.type_bigint() }}) as courses_with_primary_baseline,
    cast(combined.courses_with_primary_endpoint as {{ dbt.type_bigint() }}) as courses_with_primary_endpoint,
    cast(combined.courses_with_primary_baseline_and_endpoint as {{ dbt.type_bigint() }})
        as courses_with_primary_baseline_and_endpoint,
    cast(combined.courses_primary_evaluable as {{ dbt.type_bigint() }}) as courses_primary_evaluable,
    100.0 * combined.courses_with_primary_baseline / nullif(combined.courses, 0) as baseline_completion_pct,
    100.0 * combined.courses_with_primary_endpoint / nullif(combined.courses, 0) as endpoint_completion_pct,
    cast(combined.sessions as {{ dbt.type_bigint() }}) as sessions,
    cast(combined.sessions_missing_vitals as {{ dbt.type_bigint() }}) as sessions_missing_vitals,
    cast(combined.sessions_missing_peak_bp as {{ dbt.type_bigint() }}) as sessions_missing_peak_bp,
    cast(combined.sessions_missing_spo2 as {{ dbt.type_bigint() }}) as sessions_missing_spo2,
    cast(combined.sessions_missing_weight as {{ dbt.type_bigint() }}) as sessions_missing_weight,
    cast(combined.sessions_missing_cadss as {{ dbt.type_bigint() }}) as sessions_missing_cadss,
    100.0 * combined.sessions_missing_vitals / nullif(combined.sessions, 0) as sessions_missing_vitals_pct,
    cast(combined.reported_adverse_events as {{ dbt.type_bigint() }}) as reported_adverse_events,
    cast(combined.derived_adverse_events as {{ dbt.type_bigint() }}) as derived_adverse_events
from combined
left join sites
    on combined.site_id = sites.site_id
left join loads
    on combined.load_id = loads.load_id
