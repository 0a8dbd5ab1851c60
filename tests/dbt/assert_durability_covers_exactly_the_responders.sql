-- fct_durability has one row for each responding course x instrument of fct_response, and no other.
with

responders as (
    select
        patient_id,
        course_number,
        instrument
    from {{ ref('fct_response') }}
    where responder
),

durability as (
    select
        patient_id,
        course_number,
        instrument
    from {{ ref('fct_durability') }}
),

missing as (
    select * from responders
    except
    select * from durability
),

extra as (
    select * from durability
    except
    select * from responders
)

select
    'missing' as problem,
    patient_id,
    course_number,
    instrument
from missing
union all
select
    'extra' as problem,
    patient_id,
    course_number,
    instrument
from extra
