from equiptwin.cli import main

main()
