# Nova's own test packages apply eventlet monkey-patching when imported
# (nova.tests on 2025.1+, nova.tests.functional before); it must come
# before anything imports threading, as in Nova's own test runs.
import nova.tests.functional  # noqa: F401
