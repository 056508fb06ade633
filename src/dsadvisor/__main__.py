from dsadvisor.cli import main

main()
