{#- Fails with one row per null value of the column. -#}
{% test kow_not_null(model, column_name) %}
    select {{ column_name }} as null_value
    from {{ model }}
    where {{ column_name }} is null
{% endtest %}
