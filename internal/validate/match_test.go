package validate

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns IsUUID and IsSlug implement by hand, so that a program that
// validates a link token need not link package regexp for them.
var (
	uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)
)

// matchSeeds are near misses of both patterns: each differs from a valid
// value in one place.
var matchSeeds = []string{
	"", "a", "A", "-", "_a", ".a", "a_b.c-d", "a b", "a\n", "\na", "é", "aé",
	strings.Repeat("a", 100), strings.Repeat("a", 101), strings.Repeat("0", 99) + "Z",
	"41f11808-5387-4be5-9af2-852a372d61e3", "41F11808-5387-4BE5-9AF2-852A372D61E3",
	"41f11808-5387-4be5-9af2-852a372d61e", "41f11808-5387-4be5-9af2-852a372d61e3a",
	"41f11808_5387-4be5-9af2-852a372d61e3", "41f11808-5387-4be5-9af2-852a372d61g3",
	"41f118085-387-4be5-9af2-852a372d61e3", "41f11808-5387-4be5-9af2-852a372d61e3\n",
	"{41f11808-5387-4be5-9af2-852a372d61e3}", "41f11808-5387-4be5-9af2-852a372d61é",
}

func TestIsUUIDAndIsSlugKeepTheirPatterns(t *testing.T) {
	t.Parallel()
	for _, s := range matchSeeds {
		checkMatch(t, s)
	}
}

func FuzzIsUUIDAndIsSlug(f *testing.F) {
	for _, s := range matchSeeds {
		f.Add(s)
	}
	f.Fuzz(checkMatch)
}

func checkMatch(t *testing.T, s string) {
	if got, want := IsUUID(s), uuidPattern.MatchString(s); got != want {
		t.Errorf("IsUUID(%q) = %v, the pattern says %v", s, got, want)
	}
	if got, want := IsSlug(s), slugPattern.MatchString(s); got != want {
		t.Errorf("IsSlug(%q) = %v, the pattern says %v", s, got, want)
	}
}
