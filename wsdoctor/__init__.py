"""wsdoctor: a command-line doctor for pytest suites.

This module is imported inside the user's interpreter too (the child plugin
lives in this package), so it must stay free of third-party imports.
"""

__version__ = "0.1.0"
