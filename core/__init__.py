"""The ground floor: settings, errors, warehouse access, definitions, progress. Imports nothing of ours."""
