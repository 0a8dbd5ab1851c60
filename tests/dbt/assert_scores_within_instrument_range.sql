-- Every assessment's total score lies within its instrument's range (seed instruments).
select
    assessments.assessment_id,
    assessments.instrument,
    assessments.total_score
from {{ ref('stg_kow__assessments') }} as assessments
inner join {{ ref('instruments') }} as instruments
    on assessments.instrument = instruments.instrument
where
    assessments.total_score < instruments.score_min
    or assessments.total_score > instruments.score_max
