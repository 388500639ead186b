from wsdoctor.cli import main

main()
