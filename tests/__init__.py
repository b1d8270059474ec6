"""The test suite. A package, so that its shared harness imports as ``tests.harness``."""
