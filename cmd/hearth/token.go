package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/hearth-rtc/hearth/room"
)

func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	roomName := fs.String("room", "", "room name (required)")
	identity := fs.String("identity", "", "stable identity of the person (required)")
	name := fs.String("name", "", "display name (required)")
	role := fs.String("role", "member", "facilitator, co-facilitator, member or observer")
	ttl := fs.Duration("ttl", 2*time.Hour, "how long the token is valid")
	secret := fs.String("secret", "", "the server's token secret (HEARTH_SECRET)")
	base := fs.String("url", "http://127.0.0.1:8080", "the server's public base URL, for the join link")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs); err != nil {
		return err
	}
	if *roomName == "" || *identity == "" || *name == "" {
		return errors.New("token: -room, -identity and -name are required")
	}
	if *secret == "" {
		return errors.New("token: set -secret or HEARTH_SECRET to the server's secret")
	}
	r, err := room.ParseRole(*role)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tok, err := room.IssueToken([]byte(*secret), room.TokenParams{
		Room: *roomName, Identity: *identity, Name: *name, Role: r, TTL: *ttl,
	})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	// The token rides in the fragment, which browsers never send to the
	// server, so it stays out of access logs.
	link := strings.TrimRight(*base, "/") + "/r/" + url.PathEscape(*roomName) + "#token=" + tok
	fmt.Fprintf(stdout, "token: %s\nlink:  %s\n", tok, link)
	return nil
}
