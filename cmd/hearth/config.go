package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// envName is the environment variable for a flag: HEARTH_ and the flag's
// name in capitals (-udp-port is HEARTH_UDP_PORT), except -redis, which is
// HEARTH_REDIS_URL.
func envName(flagName string) string {
	if flagName == "redis" {
		return "HEARTH_REDIS_URL"
	}
	return "HEARTH_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envDefaults sets every flag not given on the command line from its
// environment variable.
func envDefaults(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if serr := f.Value.Set(v); serr != nil {
				err = fmt.Errorf("%s: %w", name, serr)
			}
		}
	})
	return err
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
