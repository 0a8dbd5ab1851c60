select
    assessment_id,
    patient_id,
    assessed_on,
    upper(trim(instrument)) as instrument,
    total_score,
    load_id
from {{ source('kow', 'assessments') }}
