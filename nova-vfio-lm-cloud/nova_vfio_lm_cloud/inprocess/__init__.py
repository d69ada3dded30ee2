"""The in-process cloud shared by the functional tests and the demo.

Importing anything here needs Nova's functional test framework, which is
installed with Nova's test extras (``nova[test]``); production services never
import it.
"""
