"""wsdoctor: a command-line doctor for pytest suites."""

__version__ = "0.1.0"
