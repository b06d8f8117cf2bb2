"""Hypothesis profiles of a conformance run.

quick: a first look. ci: derandomized, no example database, no deadline: the same verdict on
every run. thorough: many examples, with the database, exploring (a run draws a seed, which
the results record and the replay line names).
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, Verbosity, settings

# quiet: Hypothesis's own messages (its falsifying example, its slow-shrinking warning) stay out
# of the output; a failing row carries the counterexample and the reproducer itself. No explain
# phase: it reruns the shrunk example with parts of it redrawn at random, only to comment on the
# falsifying example that the quiet verbosity hides, and the row would record its last run.
_COMMON = dict(deadline=None, report_multiple_bugs=False, print_blob=False,
               verbosity=Verbosity.quiet,
               phases=tuple(phase for phase in Phase if phase != Phase.explain),
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                      HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])

PROFILES = {
    "quick": settings(max_examples=10, derandomize=True, database=None, **_COMMON),
    "ci": settings(max_examples=40, derandomize=True, database=None, **_COMMON),
    # explicit: under CI=true, Hypothesis's own "ci" profile would make it derandomized too
    "thorough": settings(max_examples=400, derandomize=False, **_COMMON),
}
