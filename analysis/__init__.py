"""Stage 3: marts -> analysis.* with statsmodels (issue #5)."""
