import KarstCLI

// The command-line client: everything is in KarstCLI (docs/ARCHITECTURE.md).
Karstctl.main()
