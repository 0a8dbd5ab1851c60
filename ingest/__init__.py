"""Stage 1: a clinic's export folder -> schema raw of the warehouse, checked and all or nothing."""
