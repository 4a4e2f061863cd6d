package mergelink

import (
	"fmt"
	"strings"

	"github.com/mergelink/mergelink/internal/core"
)

// Region is where a Merge organization's data lives. Each region has its own
// hosts; an API key works only in its own region.
type Region string

// The regions Merge serves.
const (
	RegionUS   Region = "us"
	RegionEU   Region = "eu"
	RegionAPAC Region = "apac"
)

// ErrNoAgentHandlerHost is returned by every Agent Handler call in RegionAPAC,
// for which Merge publishes no Agent Handler host, unless
// WithAgentHandlerBaseURL sets one.
var ErrNoAgentHandlerHost = core.ErrNoAgentHandlerHost

var regionHosts = map[Region][2]string{
	RegionUS:   {"https://api.merge.dev/api", "https://ah-api.merge.dev/api/v1"},
	RegionEU:   {"https://api-eu.merge.dev/api", "https://ah-api-eu.merge.dev/api/v1"},
	RegionAPAC: {"https://api-ap.merge.dev/api", ""},
}

// ParseRegion returns the region named s ("us", "eu" or "apac", in any case).
// It fails for any other name.
func ParseRegion(s string) (Region, error) {
	r := Region(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := regionHosts[r]; !ok {
		return "", unknownRegion(s)
	}
	return r, nil
}

func unknownRegion(name string) error {
	return fmt.Errorf("mergelink: unknown region %q: use us, eu or apac", name)
}

// BaseURL returns the region's Unified API base URL, or "" for an unknown
// region.
func (r Region) BaseURL() string { return regionHosts[r][0] }

// AgentHandlerBaseURL returns the region's Agent Handler base URL. It fails
// with ErrNoAgentHandlerHost for RegionAPAC, and for an unknown region.
func (r Region) AgentHandlerBaseURL() (string, error) {
	if u := regionHosts[r][1]; u != "" {
		return u, nil
	}
	if _, ok := regionHosts[r]; !ok {
		return "", unknownRegion(string(r))
	}
	return "", ErrNoAgentHandlerHost
}

// String returns the region's name.
func (r Region) String() string { return string(r) }
