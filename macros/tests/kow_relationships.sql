{#- Fails with each non-null value of the column that the parent's field does not hold. -#}
{% test kow_relationships(model, column_name, to, field) %}
    select child.{{ column_name }} as orphan_value
    from {{ model }} as child
    where
        child.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ to }} as parent
            where parent.{{ field }} = child.{{ column_name }}
        )
{% endtest %}
