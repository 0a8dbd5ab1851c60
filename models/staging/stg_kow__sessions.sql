select
    session_id,
    patient_id,
    session_date,
    upper(trim(route)) as route,
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
    coalesce(completed, true) as completed,
    load_id
from {{ source('kow', 'sessions') }}
