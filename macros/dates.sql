{#- Date arithmetic through dbt's cross-database macros, cast back to date
    (on DuckDB dbt.dateadd returns a TIMESTAMP even for a DATE). -#}

{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- Whole days from start_date to end_date (end minus start), as an integer. -#}
{% macro days_between(start_date, end_date) -%}
    cast({{ dbt.datediff(start_date, end_date, 'day') }} as {{ dbt.type_int() }})
{%- endmacro %}
