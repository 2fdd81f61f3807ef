// Command hearth runs the Hearth server and its tools.
//
//	hearth [serve] [flags]      run the server (the default)
//	hearth token [flags]        print a join token and link
//	hearth load [flags]         measure a server under synthetic sessions
//	hearth room <verb> [flags]  list, get, create, update, delete rooms; attendance
//
// Every flag has a HEARTH_* environment equivalent (flag -udp-port is
// HEARTH_UDP_PORT); a flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // schedules' time zones, on machines without a zone database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hearth:", err)
		stop()
		os.Exit(1)
	}
}

// run runs one command. Asking for help (-h, -help, --help) is not an
// error: the flags are printed and the exit status is 0.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := dispatch(ctx, args, stdout, stderr); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "token":
		return token(args, stdout, stderr)
	case "load":
		return loadCmd(ctx, args, stdout, stderr)
	case "room":
		return roomCmd(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprintln(stdout, "usage: hearth [serve|token|load|room] [flags]; hearth <command> -h for flags")
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, token, load or room)", cmd)
}
