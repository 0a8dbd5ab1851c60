{#- Plain schema names (staging, intermediate, marts, seeds, audit) instead of dbt's
    <target_schema>_<custom> concatenation; nodes without +schema go to the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
