package agenthandler

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// MagicLinkHosts returns the hosts on which Merge serves the magic links of
// c's region, as a URL writes them (host, and port when not the default):
// the host of c's Agent Handler base URL, the region's, or the one
// mergelink.WithAgentHandlerBaseURL set, such as a mergetest server's.
// Merge's documentation shows every Agent Handler magic link on the API's
// own host (https://ah-api.merge.dev/magic-link/..., from the link token
// endpoint and from authenticate tools alike), and names no other; a host
// Merge turns out to use is added by the caller (CheckMagicLinkURL's
// extraHosts, agentmcp.WithMagicLinkHosts). It fails as every call does
// when c has no Agent Handler host (RegionAPAC without a base URL).
func (c *Client) MagicLinkHosts() ([]string, error) {
	if c == nil || c.s == nil {
		return nil, errNoSettings
	}
	if c.s.AgentBaseErr != nil {
		return nil, fmt.Errorf("mergelink: MagicLinkHosts: %w", c.s.AgentBaseErr)
	}
	base, err := url.Parse(c.s.AgentBase)
	if err != nil {
		return nil, fmt.Errorf("mergelink: MagicLinkHosts: the Agent Handler base URL does not parse: %w", err)
	}
	host := strings.ToLower(base.Host)
	return []string{host}, nil
}

// CheckMagicLinkURL reports whether raw is a magic link that a user may be
// sent to: an absolute https URL (plain http only on a loopback host, a
// test server) on one of c.MagicLinkHosts or of extraHosts (host, or
// host:port, as a URL writes them). Check a link that did not come from
// CreateLinkToken (an authenticate tool's answer, say) before showing it
// or passing it to AppendCallbackURL, which checks no host: a link
// elsewhere would take the user, and the callback's state, off Merge. Its
// errors do not show the link, which carries a link token.
func (c *Client) CheckMagicLinkURL(raw string, extraHosts ...string) error {
	hosts, err := c.MagicLinkHosts()
	if err != nil {
		return err
	}
	u, err := parseMagicLinkURL(raw)
	if err != nil {
		return err
	}
	if u.User != nil {
		return errors.New("mergelink: the magic link URL carries user info, which Merge's links never do: not showing it")
	}
	host := strings.ToLower(u.Host)
	if slices.Contains(hosts, host) || slices.ContainsFunc(extraHosts, func(h string) bool { return strings.EqualFold(h, host) }) {
		return nil
	}
	return errNotMergeHost
}

// errNotMergeHost is CheckMagicLinkURL's error for a link off Merge's hosts.
var errNotMergeHost = errors.New("mergelink: the magic link URL is not on a Merge host of the client's region: not showing it (add a host Merge uses with the caller's option, such as agentmcp.WithMagicLinkHosts)")
