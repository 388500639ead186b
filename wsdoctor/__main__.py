from wsdoctor.entry import main

main()
