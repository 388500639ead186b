"""wsdoctor's built-in playbooks (YAML): installed as the package ``wsdoctor.playbooks``."""
