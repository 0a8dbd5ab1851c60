{#- Model-level: fails with one row per row of the model where any of the columns is null, naming the
    null columns. One query (and one dbt node) for all of a model's required columns. -#}
{% test kow_not_null_columns(model, columns) %}
    select *
    from (
        select
            {%- for column in columns %}
                case when {{ column }} is null then '{{ column }} ' else '' end
                {%- if not loop.last %} ||{% endif %}
            {%- endfor %} as null_columns
        from {{ model }}
        where
            {%- for column in columns %}
                {{ column }} is null{% if not loop.last %} or{% endif %}
            {%- endfor %}
    ) as nulls
{% endtest %}
