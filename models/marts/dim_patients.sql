-- One row per patient: site, derived indication, demographics and a summary of their treatment.
with

patients as (
    select * from {{ ref('int_patients_classified') }}
),

sites as (
    select * from {{ ref('stg_kow__sites') }}
),

treatment as (
    select
        patient_id,
        min(first_session_date) as first_session_date,
        max(last_session_date) as last_session_date,
        cast(count(*) as {{ dbt.type_int() }}) as courses,
        cast(sum(sessions) as {{ dbt.type_int() }}) as sessions
    from {{ ref('int_courses_aggregated') }}
    group by patient_id
)

select
    patients.patient_id,
    patients.site_id,
    sites.site_name,
    sites.region,
    patients.indication,
    patients.primary_dx_icd10,
    coalesce(patients.indication_code_prefix, '') = '' as dx_unmapped,
    patients.prior_failed_treatments,
    patients.age_at_first_session,
    patients.age_band,
    patients.sex,
    patients.zip3,
    patients.substance_use_history,
    treatment.first_session_date,
    treatment.last_session_date,
    coalesce(treatment.courses, 0) as courses,
    coalesce(treatment.sessions, 0) as sessions,
    patients.load_id
from patients
left join sites
    on patients.site_id = sites.site_id
left join treatment
    on patients.patient_id = treatment.patient_id
