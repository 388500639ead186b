"""The child side: runs inside the user's interpreter, in every child pytest that wsdoctor starts.

Everything in this package imports only pytest and the standard library and works with pytest
7.0+ on Python 3.9+. It is staged onto the child's PYTHONPATH as a whole directory (see
wsdoctor.execution.child.stage_child_package), without any parent-side module.
"""
