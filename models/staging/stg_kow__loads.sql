select
    load_id,
    source_path,
    started_at,
    finished_at,
    outcome,
    site_ids,
    message
from {{ source('kow', 'loads') }}
