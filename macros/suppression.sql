{#- Small-cell suppression (definitions.md, Reporting): a count below min_cell_size shown to clinic
    leadership or exported is shown as "<min_cell_size". For models that publish aggregates; the marts keep
    exact counts, and whatever would let a suppressed cell be recomputed from totals must be suppressed
    by the publishing step too. -#}

{% macro is_small_cell(count_expr) -%}
    ({{ count_expr }} < {{ var('min_cell_size') }})
{%- endmacro %}

{% macro suppressed_count(count_expr) -%}
    case
        when {{ is_small_cell(count_expr) }} then '<' || cast({{ var('min_cell_size') }} as {{ dbt.type_string() }})
        else cast({{ count_expr }} as {{ dbt.type_string() }})
    end
{%- endmacro %}
