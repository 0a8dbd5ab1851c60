-- One row per derived adverse event: a session whose peak blood pressure reaches
-- derived_hypertension_sbp_mmhg / derived_hypertension_dbp_mmhg, or whose lowest SpO2 is below
-- derived_desaturation_spo2_pct, gets the event term the seed event_terms assigns to that rule
-- (derived_rule), unless the same term is already reported for that session.
with

sessions as (
    select
        session_id,
        sbp_max,
        dbp_max,
        spo2_min
    from {{ ref('stg_kow__sessions') }}
),

reported as (
    select
        session_id,
        event_term
    from {{ ref('stg_kow__adverse_events') }}
),

derivable_terms as (
    select
        event_term,
        derived_rule
    from {{ ref('event_terms') }}
    where derived_rule is not null
),

flags as (
    select
        session_id,
        'peak_blood_pressure' as derived_rule
    from sessions
    where
        sbp_max >= {{ var('derived_hypertension_sbp_mmhg') }}
        or dbp_max >= {{ var('derived_hypertension_dbp_mmhg') }}

    union all

    select
        session_id,
        'lowest_spo2' as derived_rule
    from sessions
    where spo2_min < {{ var('derived_desaturation_spo2_pct') }}
)

select
    flags.session_id,
    derivable_terms.event_term,
    flags.derived_rule
from flags
inner join derivable_terms
    on flags.derived_rule = derivable_terms.derived_rule
left join reported
    on
        flags.session_id = reported.session_id
        and derivable_terms.event_term = reported.event_term
where reported.session_id is null
