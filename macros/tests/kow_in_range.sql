{#- Fails with each non-null value below min_value or above max_value (both inclusive by default;
    inclusive=false makes both bounds strict). Either bound may be left out. -#}
{% test kow_in_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {%- set below = '<' if inclusive else '<=' -%}
    {%- set above = '>' if inclusive else '>=' -%}
    select {{ column_name }} as out_of_range_value
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %}
                or {{ column_name }} {{ below }} {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
                or {{ column_name }} {{ above }} {{ max_value }}
            {%- endif %}
        )
{% endtest %}
