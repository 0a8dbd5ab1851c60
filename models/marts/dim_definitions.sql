-- The definition vars in force for this build (dbt_project.yml, or `kow build --vars` overrides), so an
-- analysis or export can state exactly which definitions produced the marts.
{%- set names = [
    'course_gap_days', 'induction_sessions', 'induction_window_days', 'baseline_window_days',
    'endpoint_window_days', 'response_reduction', 'relapse_consecutive', 'derived_hypertension_sbp_mmhg',
    'derived_hypertension_dbp_mmhg', 'derived_desaturation_spo2_pct', 'min_cell_size', 'alpha',
    'serious_grade_min', 'dose_band_edges_mg_per_kg'
] %}

{% for name in names %}
    select
        '{{ name }}' as var_name,
        '{{ var(name) }}' as var_value
    {%- if not loop.last %}
        union all
    {%- endif %}
{% endfor %}
