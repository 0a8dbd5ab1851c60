select
    patient_id,
    site_id,
    age_at_first_session,
    lower(trim(sex)) as sex,
    zip3,
    {{ normalise_icd10('primary_dx_icd10') }} as primary_dx_icd10,
    prior_failed_treatments,
    substance_use_history,
    load_id
from {{ source('kow', 'patients') }}
