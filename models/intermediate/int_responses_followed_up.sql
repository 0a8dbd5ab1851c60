-- Durability: one row per responding course x instrument. The clock starts at the endpoint date;
-- follow-up scores are the same instrument's scores dated after the endpoint and before the first
-- session of the patient's next course (open-ended for the last course). Response is lost on the date
-- of the first of relapse_consecutive consecutive follow-up scores that are each above the response
-- line; otherwise the course is censored at its last follow-up score (the endpoint date without one).
{%- set run_length = var('relapse_consecutive') | int %}
with

responders as (
    select
        patient_id,
        course_number,
        instrument,
        is_primary,
        baseline_score,
        endpoint_score,
        endpoint_date,
        response_line_score
    from {{ ref('int_responses_evaluated') }}
    where responder
),

courses as (
    select
        patient_id,
        course_number,
        next_course_first_session_date
    from {{ ref('int_courses_aggregated') }}
),

assessments as (
    select
        assessment_id,
        patient_id,
        assessed_on,
        instrument,
        total_score
    from {{ ref('stg_kow__assessments') }}
),

followups as (
    select
        responders.patient_id,
        responders.course_number,
        responders.instrument,
        assessments.assessment_id,
        assessments.assessed_on,
        case when assessments.total_score > responders.response_line_score then 1 else 0 end
            as above_response_line
    from responders
    inner join courses
        on
            responders.patient_id = courses.patient_id
            and responders.course_number = courses.course_number
    inner join assessments
        on
            responders.patient_id = assessments.patient_id
            and responders.instrument = assessments.instrument
            and responders.endpoint_date < assessments.assessed_on
            and (
                courses.next_course_first_session_date is null
                or courses.next_course_first_session_date > assessments.assessed_on
            )
),

runs as (
    select
        *,
        -- how many of this score and the run_length - 1 scores after it are above the line
        sum(above_response_line) over (
            partition by patient_id, course_number, instrument
            order by assessed_on, assessment_id
            rows between current row and {{ run_length - 1 }} following
        ) as above_in_run
    from followups
),

followup_summary as (
    select
        patient_id,
        course_number,
        instrument,
        cast(count(*) as {{ dbt.type_int() }}) as followup_scores,
        max(assessed_on) as last_followup_date,
        min(case when above_in_run = {{ run_length }} then assessed_on end) as loss_date
    from runs
    group by patient_id, course_number, instrument
),

events as (
    select
        responders.*,
        courses.next_course_first_session_date,
        coalesce(followup_summary.followup_scores, 0) as followup_scores,
        followup_summary.last_followup_date,
        followup_summary.loss_date is not null as lost_response,
        coalesce(
            followup_summary.loss_date,
            followup_summary.last_followup_date,
            responders.endpoint_date
        ) as event_date
    from responders
    inner join courses
        on
            responders.patient_id = courses.patient_id
            and responders.course_number = courses.course_number
    left join followup_summary
        on
            responders.patient_id = followup_summary.patient_id
            and responders.course_number = followup_summary.course_number
            and responders.instrument = followup_summary.instrument
)

select
    patient_id,
    course_number,
    instrument,
    is_primary,
    baseline_score,
    endpoint_score,
    response_line_score,
    endpoint_date,
    next_course_first_session_date,
    followup_scores,
    last_followup_date,
    lost_response,
    event_date,
    {{ days_between('endpoint_date', 'event_date') }} as days_to_event
from events
