-- One row per patient with the indication derived from the ICD-10 code (seed icd10_indications: prefix
-- match on the normalised code, the highest-priority rule whose condition holds) and an age band.
with

patients as (
    select * from {{ ref('stg_kow__patients') }}
),

indication_rules as (
    select
        coalesce(code_prefix, '') as code_prefix,
        indication,
        requires_min_failed_treatments,
        priority
    from {{ ref('icd10_indications') }}
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

matched_rules as (
    select
        patients.patient_id,
        indication_rules.indication,
        indication_rules.code_prefix,
        row_number() over (
            partition by patients.patient_id
            order by
                indication_rules.priority desc,
                length(indication_rules.code_prefix) desc,
                indication_rules.indication asc
        ) as rule_rank
    from patients
    inner join indication_rules
        on
            patients.primary_dx_icd10 like indication_rules.code_prefix || '%'
            and (
                indication_rules.requires_min_failed_treatments is null
                or patients.prior_failed_treatments
                >= indication_rules.requires_min_failed_treatments
            )
),

chosen_rules as (
    select
        patient_id,
        indication,
        code_prefix
    from matched_rules
    where rule_rank = 1
)

select
    patients.patient_id,
    patients.site_id,
    patients.age_at_first_session,
    age_bands.age_band,
    patients.sex,
    patients.zip3,
    patients.primary_dx_icd10,
    chosen_rules.indication,
    chosen_rules.code_prefix as indication_code_prefix,
    patients.prior_failed_treatments,
    patients.substance_use_history,
    patients.load_id
from patients
left join chosen_rules
    on patients.patient_id = chosen_rules.patient_id
left join age_bands
    on
        patients.age_at_first_session >= age_bands.age_min
        and patients.age_at_first_session <= age_bands.age_max
