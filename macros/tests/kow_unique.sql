{#- Fails with each value that occurs more than once (nulls are not compared). -#}
{% test kow_unique(model, column_name) %}
    select
        {{ column_name }} as duplicated_value,
        count(*) as occurrences
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
