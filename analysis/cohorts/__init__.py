"""Cohorts of treatment courses from YAML definitions: schema, parameterised SQL, attrition, summary, compare."""
