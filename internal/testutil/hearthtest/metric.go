package hearthtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Metric reads one unlabelled series from a Prometheus text page, such as
// a server's /metrics.
func Metric(ctx context.Context, url, name string) (float64, error) {
	v, err := Metrics(ctx, url, name)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// Metrics reads unlabelled series from one scrape of a Prometheus text
// page, in the order of names.
func Metrics(ctx context.Context, url string, names ...string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	out := make([]float64, len(names))
	for i, name := range names {
		found := false
		for line := range strings.SplitSeq(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				if out[i], err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
					return nil, err
				}
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no %s in %s", name, url)
		}
	}
	return out, nil
}
