-- Every fct_response row is a course of fct_courses.
select
    responses.patient_id,
    responses.course_number
from {{ ref('fct_response') }} as responses
left join {{ ref('fct_courses') }} as courses
    on
        responses.patient_id = courses.patient_id
        and responses.course_number = courses.course_number
where courses.patient_id is null
