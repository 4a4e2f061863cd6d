package delivery

import (
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// CheckClaim returns a *mergelink.ValidationError when key or owner is
// empty or lease is not positive: the arguments no Store accepts in Begin.
// Stores call it first.
func CheckClaim(key, owner string, lease time.Duration) error {
	c := validate.New("delivery.Store.Begin")
	if key == "" {
		c.Add("key", "required", "")
	}
	if owner == "" {
		c.Add("owner", "required: a random token, one per attempt", "")
	}
	if lease <= 0 {
		c.Add("lease", "must be positive", lease.String())
	}
	return c.Err()
}
