-- One row per course x instrument with a baseline or an endpoint: evaluability, percentage change,
-- response and remission. Reasons for not being evaluable are checked in this order and the first that
-- applies is given: no_baseline, below_min_baseline (seed instruments), no_endpoint.
with

scores as (
    select * from {{ ref('int_course_scores_selected') }}
),

instruments as (
    select
        instrument,
        min_baseline,
        remission_max
    from {{ ref('instruments') }}
),

primary_instruments as (
    select * from {{ ref('int_primary_instruments_chosen') }}
),

classified as (
    select
        scores.*,
        instruments.min_baseline,
        instruments.remission_max,
        coalesce(scores.instrument = primary_instruments.primary_instrument, false) as is_primary,
        {{ response_line('scores.baseline_score') }} as response_line_score,
        case
            when scores.baseline_score is null then 'no_baseline'
            when scores.baseline_score < instruments.min_baseline then 'below_min_baseline'
            when scores.endpoint_score is null then 'no_endpoint'
        end as not_evaluable_reason
    from scores
    left join instruments
        on scores.instrument = instruments.instrument
    left join primary_instruments
        on
            scores.patient_id = primary_instruments.patient_id
            and scores.course_number = primary_instruments.course_number
)

select
    patient_id,
    course_number,
    instrument,
    is_primary,
    baseline_assessment_id,
    baseline_score,
    baseline_date,
    endpoint_assessment_id,
    endpoint_score,
    endpoint_date,
    min_baseline,
    remission_max,
    response_line_score,
    (endpoint_score - baseline_score) / nullif(baseline_score, 0) as pct_change,
    not_evaluable_reason is null as evaluable,
    not_evaluable_reason,
    case when not_evaluable_reason is null then endpoint_score <= response_line_score end as responder,
    case when not_evaluable_reason is null then endpoint_score <= remission_max end as remitter
from classified
