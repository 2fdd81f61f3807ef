package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

const roomUsage = `usage: hearth room <list|get|create|update|delete|attendance|end> [flags] [name]

  hearth room list
  hearth room get tuesday-anxiety
  hearth room create -name tuesday-anxiety -kind closed -capacity 10 \
      -roster 'dr-lee:facilitator:Dr Lee,client-04:member:Rae' \
      -schedule 'first=2026-12-03,start=19:00,minutes=90,repeat=weekly,sessions=10,tz=Europe/London' \
      -agreement-file agreement.txt -agreement-contact 'Call 01632 960123' -agreement-every series
  hearth room update tuesday-anxiety -capacity 12 -knock=true
  hearth room update tuesday-anxiety -display-name 'Tuesday anxiety group' -share-end finish
  hearth room update tuesday-anxiety -override-by 'Dr Lee' \
      -roster 'dr-lee:facilitator:Dr Lee,client-04:member:Rae,client-09:member:Kim'
  hearth room update tuesday-anxiety -schedule - -agreement-file -   (remove both)
  hearth room attendance tuesday-anxiety [-session 3] [-csv]
  hearth room delete tuesday-anxiety
  hearth room end tuesday-anxiety        (end the running session: everyone is told)

A closed room with a schedule is a closed cohort: invitations work from 15
minutes before each session (30 for facilitators) to its end, and once the
first session is over, adding to the roster needs -override-by (recorded).

A peer-led group: -peer-led members lets members start rounds and pass the
floor while no facilitator is present, and a schedule's rota
(rota=rae;kim;-;sam, "-" for nobody, in turn) makes that session's member
its facilitator when they join.

It talks to a running server's admin API (-server, -api-key, -api-secret or
HEARTH_SERVER, HEARTH_API_KEY, HEARTH_API_SECRET).`

// roomCmd manages room configuration through the admin API, so it works
// the same whether the server keeps membership in memory or in Redis.
func roomCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stdout, roomUsage)
		return nil
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("room "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://127.0.0.1:8080", "the server's base URL")
	apiKey := fs.String("api-key", "", "admin API key")
	apiSecret := fs.String("api-secret", "", "admin API secret")
	name := fs.String("name", "", "room name (create)")
	kind := fs.String("kind", "", "open or closed")
	displayName := fs.String("display-name", "", "the name people see, e.g. 'Thursday circle' (\"-\" restores the one made from the name)")
	shareEnd := fs.String("share-end", "", "when a timed share's time is up: stop (the default) or finish (the speaker may finish)")
	capacity := fs.Int("capacity", 0, "most people seated at once")
	passcode := fs.String("passcode", "", "passcode (\"-\" removes it)")
	knock := fs.String("knock", "", "true: arrivals wait until a facilitator admits them")
	lockBehavior := fs.String("lock-behavior", "", "what a locked room does with arrivals: waiting or refuse")
	joinMuted := fs.String("members-join-muted", "", "true: members join muted")
	roster := fs.String("roster", "", "identity:role[:name],... (replaces the roster)")
	schedule := fs.String("schedule", "", "first=YYYY-MM-DD,start=HH:MM,minutes=N,repeat=none|weekly|fortnightly,sessions=N,tz=Area/City[,rota=id;id;-] (\"-\" removes it)")
	peerLed := fs.String("peer-led", "", "who may start rounds and give the floor while no facilitator is present: nobody or members")
	agreementFile := fs.String("agreement-file", "", "file holding the group agreement's text (\"-\" removes the agreement)")
	agreementEvery := fs.String("agreement-every", "", "series (accept once) or session (accept at every session); with -agreement-file")
	agreementContact := fs.String("agreement-contact", "", "how to reach the facilitator, for someone who declines; with -agreement-file")
	overrideBy := fs.String("override-by", "", "who decides to add people to a closed cohort's roster after its first session")
	session := fs.String("session", "", "attendance: one session (its number, or a sitting's key)")
	asCSV := fs.Bool("csv", false, "attendance: CSV rather than JSON")
	// Flags may come before or after the room name.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := envDefaults(fs); err != nil {
		return err
	}

	body := map[string]any{}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["kind"] {
		body["kind"] = *kind
	}
	if given["capacity"] {
		body["capacity"] = *capacity
	}
	if given["passcode"] {
		if *passcode == "-" {
			body["passcode"] = ""
		} else {
			body["passcode"] = *passcode
		}
	}
	for _, b := range []struct {
		flag, field, value string
	}{{"knock", "knock", *knock}, {"members-join-muted", "membersJoinMuted", *joinMuted}} {
		if given[b.flag] {
			v, err := strconv.ParseBool(b.value)
			if err != nil {
				return fmt.Errorf("-%s: %w", b.flag, err)
			}
			body[b.field] = v
		}
	}
	if given["lock-behavior"] {
		body["lockBehavior"] = *lockBehavior
	}
	if given["display-name"] {
		if *displayName == "-" {
			body["displayName"] = ""
		} else {
			body["displayName"] = *displayName
		}
	}
	if given["share-end"] {
		body["shareEnd"] = *shareEnd
	}
	if given["peer-led"] {
		body["peerLed"] = *peerLed
	}
	if given["roster"] {
		entries, err := parseRoster(*roster)
		if err != nil {
			return err
		}
		body["roster"] = entries
	}
	if given["schedule"] {
		s, err := parseSchedule(*schedule)
		if err != nil {
			return err
		}
		body["schedule"] = s
	}
	if (given["agreement-every"] || given["agreement-contact"]) && !given["agreement-file"] {
		return errors.New("-agreement-every and -agreement-contact go with -agreement-file (the agreement is set whole)")
	}
	if given["agreement-file"] {
		a, err := readAgreement(*agreementFile, *agreementEvery, *agreementContact)
		if err != nil {
			return err
		}
		body["agreement"] = a
	}
	if given["override-by"] {
		body["overrideBy"] = *overrideBy
	}

	target := ""
	if len(positional) > 0 {
		target = positional[0]
	}
	var method, path string
	switch verb {
	case "list":
		method, path, body = http.MethodGet, "/admin/rooms", nil
	case "get":
		method, path, body = http.MethodGet, "/admin/rooms/"+url.PathEscape(target), nil
	case "create":
		if *name == "" {
			*name = target
		}
		body["name"] = *name
		method, path = http.MethodPost, "/admin/rooms"
	case "update":
		method, path = http.MethodPatch, "/admin/rooms/"+url.PathEscape(target)
	case "delete":
		method, path, body = http.MethodDelete, "/admin/rooms/"+url.PathEscape(target), nil
	case "end":
		method, path, body = http.MethodPost, "/admin/rooms/"+url.PathEscape(target)+"/end", nil
	case "attendance":
		q := url.Values{}
		if *session != "" {
			q.Set("session", *session)
		}
		if *asCSV {
			q.Set("format", "csv")
		}
		method, path, body = http.MethodGet, "/admin/rooms/"+url.PathEscape(target)+"/attendance", nil
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
	default:
		return fmt.Errorf("room: unknown verb %q\n%s", verb, roomUsage)
	}
	if verb != "list" && verb != "create" && target == "" {
		return fmt.Errorf("room %s: name the room", verb)
	}
	return adminCall(ctx, *server, *apiKey, *apiSecret, method, path, body, stdout)
}

// parseSchedule reads "first=...,start=...,minutes=...,repeat=...,sessions=...,tz=...,rota=..."
// into the admin API's schedule; "-" removes the schedule. The rota's
// identities are separated by ";", with "-" for nobody.
func parseSchedule(s string) (any, error) {
	if s == "-" {
		return nil, nil
	}
	fields := map[string]string{"first": "firstDate", "start": "startTime", "minutes": "minutes", "repeat": "repeat",
		"sessions": "sessions", "tz": "timeZone", "rota": "rota"}
	out := map[string]any{}
	for _, item := range splitList(s) {
		k, v, ok := strings.Cut(item, "=")
		field, known := fields[k]
		if !ok || !known {
			return nil, fmt.Errorf("-schedule: %q is not one of first=, start=, minutes=, repeat=, sessions=, tz=, rota=", item)
		}
		if k == "minutes" || k == "sessions" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("-schedule: %s must be a number", k)
			}
			out[field] = n
			continue
		}
		if k == "rota" {
			rota := strings.Split(v, ";")
			for i, id := range rota {
				if id == "-" {
					rota[i] = ""
				}
			}
			out[field] = rota
			continue
		}
		out[field] = v
	}
	return out, nil
}

// readAgreement reads the agreement's text from a file; "-" removes the
// agreement.
func readAgreement(file, every, contact string) (any, error) {
	if file == "-" {
		return nil, nil
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("-agreement-file: %w", err)
	}
	a := map[string]string{"text": strings.TrimRight(string(text), "\n")}
	if every != "" {
		a["every"] = every
	}
	if contact != "" {
		a["contact"] = contact
	}
	return a, nil
}

// parseRoster reads "identity:role[:name],...".
func parseRoster(s string) ([]map[string]string, error) {
	entries := []map[string]string{}
	for _, item := range splitList(s) {
		parts := strings.SplitN(item, ":", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("-roster: %q is not identity:role[:name]", item)
		}
		e := map[string]string{"identity": parts[0], "role": parts[1]}
		if len(parts) == 3 {
			e["name"] = parts[2]
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func adminCall(ctx context.Context, server, key, secret, method, path string, body any, stdout io.Writer) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(server, "/")+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(key, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("room: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("room: reading the answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(out, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("room: %s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("room: server answered %s", resp.Status)
	}
	if len(out) == 0 {
		fmt.Fprintln(stdout, "ok")
		return nil
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		_, err := stdout.Write(out)
		return err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		return errors.New("room: the server's answer is not JSON")
	}
	fmt.Fprintln(stdout, pretty.String())
	return nil
}
