package agenthandler

import (
	"context"
	"iter"
	"time"

	"github.com/mergelink/mergelink/internal/validate"
)

// AuditLogEvent is one entry of the organization's audit log.
type AuditLogEvent struct {
	ID        string `json:"id"`
	UserName  string `json:"user_name"`
	UserEmail string `json:"user_email"`
	// Role is the user's role at the time, or "".
	Role      string `json:"role"`
	IPAddress string `json:"ip_address"`
	// EventType is what happened, such as "TOOL_PACK_CREATED".
	EventType        string    `json:"event_type"`
	EventDescription string    `json:"event_description"`
	CreatedAt        time.Time `json:"created_at"`
}

// ListAuditLogEventsParams filter and page ListAuditLogEvents. Zero
// fields are not sent.
type ListAuditLogEventsParams struct {
	// CreatedAfter and CreatedBefore keep the events created at or after,
	// and at or before, these times.
	CreatedAfter  time.Time `url:"created_after,omitempty"`
	CreatedBefore time.Time `url:"created_before,omitempty"`
	// EventType keeps one type of event, such as "TOOL_PACK_CREATED"
	// (Merge's OpenAPI lists them).
	EventType string `url:"event_type,omitempty"`
	// UserID keeps the events of one dashboard user, a UUID.
	UserID string `url:"user_id,omitempty"`
	Paging
}

// Validate reports every problem of p: CreatedAfter later than
// CreatedBefore, an EventType that is not upper-case words joined by '_',
// a UserID that is not a UUID, a negative Page or PageSize, or a string
// that is not valid UTF-8. It returns nil or a *ValidationError.
func (p ListAuditLogEventsParams) Validate() error {
	v := newChecker("ListAuditLogEventsParams", p)
	p.check(v)
	return v.Err()
}

func (p ListAuditLogEventsParams) check(v *validate.Checker) {
	if !p.CreatedAfter.IsZero() && !p.CreatedBefore.IsZero() && p.CreatedAfter.After(p.CreatedBefore) {
		v.Add("CreatedAfter", "must not be later than CreatedBefore: no event would match", p.CreatedAfter.Format(time.RFC3339))
	}
	if !isConstantName(p.EventType) {
		v.Add("EventType", "must be an event type such as TOOL_PACK_CREATED: upper-case letters, digits and '_'", validate.Quote(p.EventType))
	}
	v.UUID("UserID", p.UserID)
	v.Page(p.Page, p.PageSize)
}

// isConstantName reports whether s is "" or an enum value in Merge's
// style: upper-case letters, digits and underscores, starting with a
// letter.
func isConstantName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// ListAuditLogEvents returns an iterator over the organization's audit log
// events that match p, newest first, page after page. A failure ends the
// loop with its error, as for ListRegisteredUsers.
func (c *Client) ListAuditLogEvents(ctx context.Context, p ListAuditLogEventsParams) iter.Seq2[AuditLogEvent, error] {
	v := newChecker("ListAuditLogEventsParams", p)
	p.check(v)
	return list[AuditLogEvent](ctx, c, v, "/audit-log/", p)
}
