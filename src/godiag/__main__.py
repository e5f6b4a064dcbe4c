from godiag.cli import main

main()
