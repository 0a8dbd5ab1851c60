select
    event_id,
    session_id,
    lower(trim(event_term)) as event_term,
    severity_grade,
    coalesce(serious, false) as serious,
    resolved,
    load_id
from {{ source('kow', 'adverse_events') }}
