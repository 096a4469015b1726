// Command flytedist shows platform engineers what the plugins do, with the
// plugins' own code:
//
//	flytedist render --config propeller.yaml --task task.json
//	    prints the resource the plugin would create for a task, as YAML.
//	flytedist phase --config propeller.yaml --resource app.yaml [--task task.json]
//	    prints the Flyte phase, reason and links for a resource with status.
//
// The task is a TaskTemplate or an admin TaskSpec (what `pyflyte package`
// writes), as protobuf or JSON. The config is a propeller config file; its
// `plugins` and `logs` sections are read as propeller reads them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  flytedist render --task FILE [--config FILE] [--namespace NS] [--name NAME] [--interruptible] [--service-account SA]
  flytedist phase --resource FILE [--config FILE] [--task FILE] [--namespace NS] [--name NAME]
`

// run is the whole command; it returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "render":
		err = render(ctx, args[1:], stdout)
	case "phase":
		err = phase(ctx, args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "flytedist: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, errHelpShown) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "flytedist %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// errHelpShown ends a command that printed its help (-h) successfully.
var errHelpShown = errors.New("help shown")

// parseFlags parses a command's flags. Parse errors are returned for run to
// report; -h/--help prints the command's flags to out.
func parseFlags(fs *flag.FlagSet, args []string, out io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(out, "usage: flytedist %s [flags]\n", fs.Name())
		fs.SetOutput(out)
		fs.PrintDefaults()
		return errHelpShown
	}
	if err == nil && fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	return err
}
