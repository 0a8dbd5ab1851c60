select
    load_id,
    table_name,
    file_name,
    content_hash,
    row_count
from {{ source('kow', 'load_files') }}
