{#- Rules of ../shared/spec/definitions.md that several models share. Thresholds come from vars
    (dbt_project.yml) and seeds only; nothing clinical is written here as a literal. -#}

{#- The response line of a baseline: (1 - response_reduction) x baseline. A score at or below it is a
    response; a follow-up score above it counts towards loss of response. Rounded to 9 decimals so
    that binary floating point cannot move a score that sits exactly on the line (0.1 x 10 = 1). -#}
{% macro response_line(baseline) -%}
    round((1.0 - cast({{ var('response_reduction') }} as double)) * {{ baseline }}, 9)
{%- endmacro %}

{#- ICD-10 code as the mapping seed expects it: upper case, no dot, no surrounding blanks. -#}
{% macro normalise_icd10(code) -%}
    replace(upper(trim({{ code }})), '.', '')
{%- endmacro %}
