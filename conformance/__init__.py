"""The conformance suite: Hypothesis property checks per rule (`checks/`), the runner and its
worker processes, the tolerance policy, declared deviations, and the pytest plugin."""
