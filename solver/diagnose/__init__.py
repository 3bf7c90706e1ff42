"""Diagnosis of infeasible cases: counting rules before solving, the elastic explanation."""
