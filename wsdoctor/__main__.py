from wsdoctor.cli import app

app(prog_name="wsdoctor")
