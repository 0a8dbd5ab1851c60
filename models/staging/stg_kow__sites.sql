select
    site_id,
    site_name,
    region,
    load_id
from {{ source('kow', 'sites') }}
