-- One row per responding course x instrument: whether and when response was lost, or when the course
-- was censored (for Kaplan-Meier: duration days_to_event, event lost_response).
with

durability as (
    select * from {{ ref('int_responses_followed_up') }}
),

patients as (
    select
        patient_id,
        site_id,
        indication
    from {{ ref('int_patients_classified') }}
)

select
    durability.patient_id,
    durability.course_number,
    durability.instrument,
    durability.is_primary,
    patients.site_id,
    patients.indication,
    durability.baseline_score,
    durability.endpoint_score,
    durability.response_line_score,
    durability.endpoint_date,
    durability.next_course_first_session_date as followup_cut_date,
    durability.followup_scores,
    durability.last_followup_date,
    durability.lost_response,
    durability.event_date,
    durability.days_to_event
from durability
left join patients
    on durability.patient_id = patients.patient_id
