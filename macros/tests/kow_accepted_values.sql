{#- Fails with each non-null value outside the accepted list, and how often it occurs. -#}
{% test kow_accepted_values(model, column_name, values) %}
    select
        {{ column_name }} as unexpected_value,
        count(*) as occurrences
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ column_name }} not in (
            {%- for value in values %}
                {%- if value is string %}'{{ value | replace("'", "''") }}'{% else %}{{ value }}{% endif %}
                {%- if not loop.last %}, {% endif %}
            {%- endfor %}
        )
    group by {{ column_name }}
{% endtest %}
