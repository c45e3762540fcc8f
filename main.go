// Command pvenroll enrolls a business's customers into its Perkville
// loyalty program from a membership system's CSV export.
package main

import (
	"os"

	"github.com/pvenroll/pvenroll/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
