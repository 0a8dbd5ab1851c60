{#- Unit-test fixtures read from a seed CSV keep empty cells as '' (dbt-core 1.11), and DuckDB cannot
    cast '' to an integer. dbt's seed loader reads an empty cell as null, so fixtures do the same here:
    the seed a unit test reads from disk means what the seed table means. -#}
{%- macro duckdb__validate_fixture_rows(rows, row_number) -%}
    {%- for row in rows -%}
        {%- for column_name in row.keys() | list -%}
            {%- if row[column_name] is string and row[column_name] == '' -%}
                {%- do row.update({column_name: none}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endmacro -%}
