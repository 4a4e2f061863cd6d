package agenthandler

import (
	"context"
	"net/http"
	"net/url"

	"github.com/mergelink/mergelink/internal/validate"
)

// UserType says whether a registered user is a person or a system.
type UserType string

// The user types Agent Handler knows; Merge assumes UserHuman when none is
// sent.
const (
	UserHuman  UserType = "HUMAN"
	UserSystem UserType = "SYSTEM"
)

// SharedCredentialGroup groups registered users that share credentials.
type SharedCredentialGroup struct {
	OriginCompanyID   string            `json:"origin_company_id,omitempty"`
	OriginCompanyName string            `json:"origin_company_name,omitempty"`
	CustomGroupings   map[string]string `json:"custom_groupings,omitempty"`
}

// RegisteredUser is one of your users (or systems) as Agent Handler knows
// it.
type RegisteredUser struct {
	// ID is Agent Handler's id, a UUID: the registeredUserID of the other
	// calls.
	ID string `json:"id"`
	// OriginUserID is your id for the user.
	OriginUserID          string                 `json:"origin_user_id"`
	OriginUserName        string                 `json:"origin_user_name"`
	SharedCredentialGroup *SharedCredentialGroup `json:"shared_credential_group"`
	UserType              UserType               `json:"user_type"`
	// AuthenticatedConnectors are the slugs of the connectors the user has
	// authenticated with.
	AuthenticatedConnectors []string `json:"authenticated_connectors"`
	IsTest                  bool     `json:"is_test"`
}

// RegisteredUserParams are the body of CreateRegisteredUser. Zero fields
// are not sent.
type RegisteredUserParams struct {
	// OriginUserID is your id for the user; Merge keeps one registered user
	// per OriginUserID. Required.
	OriginUserID string `json:"origin_user_id"`
	// OriginUserName is the user's name for people to read. Required.
	OriginUserName        string                 `json:"origin_user_name"`
	SharedCredentialGroup *SharedCredentialGroup `json:"shared_credential_group,omitempty"`
	// UserType is UserHuman (Merge's default) or UserSystem.
	UserType UserType `json:"user_type,omitempty"`
}

// Validate reports every problem of p: OriginUserID or OriginUserName
// missing, a UserType other than UserHuman and UserSystem, or a field that
// is not valid UTF-8 (two ids that differ only in invalid bytes would reach
// Merge as one user). It returns nil or a *ValidationError.
func (p RegisteredUserParams) Validate() error {
	c := validate.New("RegisteredUserParams")
	c.Strings("", p)
	c.Required("OriginUserID", p.OriginUserID)
	c.Required("OriginUserName", p.OriginUserName)
	checkUserType(c, p.UserType)
	return c.Err()
}

// UpdateRegisteredUserParams are the fields UpdateRegisteredUser changes;
// zero fields are not sent and stay as they are.
type UpdateRegisteredUserParams struct {
	OriginUserID          string                 `json:"origin_user_id,omitempty"`
	OriginUserName        string                 `json:"origin_user_name,omitempty"`
	SharedCredentialGroup *SharedCredentialGroup `json:"shared_credential_group,omitempty"`
	UserType              UserType               `json:"user_type,omitempty"`
}

// Validate reports every problem of p: no field set, a UserType other than
// UserHuman and UserSystem, or a field that is not valid UTF-8. It returns
// nil or a *ValidationError.
func (p UpdateRegisteredUserParams) Validate() error {
	c := validate.New("UpdateRegisteredUserParams")
	p.check(c)
	return c.Err()
}

func (p UpdateRegisteredUserParams) check(c *validate.Checker) {
	c.Strings("", p)
	if p == (UpdateRegisteredUserParams{}) {
		c.Add("UpdateRegisteredUserParams", "has nothing to update: set at least one field", "")
	}
	checkUserType(c, p.UserType)
}

func checkUserType(c *validate.Checker, t UserType) {
	if t != "" && t != UserHuman && t != UserSystem {
		c.Add("UserType", "must be UserHuman (HUMAN) or UserSystem (SYSTEM)", validate.Quote(string(t)))
	}
}

// CreateRegisteredUser registers a user, or returns the one already
// registered with p.OriginUserID: created reports which (Merge answers 201
// for a new user and 200 for an existing one). It fails before sending
// anything with a *ValidationError when p is invalid, and with an error
// matching mergelink.ErrNoAgentHandlerHost in a region without an Agent
// Handler host.
func (c *Client) CreateRegisteredUser(ctx context.Context, p RegisteredUserParams) (user *RegisteredUser, created bool, err error) {
	if err := p.Validate(); err != nil {
		return nil, false, err
	}
	var u RegisteredUser
	status, err := c.do(ctx, http.MethodPost, "/registered-users/", "", p, &u)
	if err != nil {
		return nil, false, err
	}
	return &u, status == http.StatusCreated, nil
}

// GetRegisteredUser returns the registered user whose Agent Handler id is
// id. It fails with a *ValidationError, sending nothing, when id is not a
// UUID, and with an error matching mergelink.ErrNotFound when there is no
// such user.
func (c *Client) GetRegisteredUser(ctx context.Context, id string) (*RegisteredUser, error) {
	v := validate.New("GetRegisteredUser")
	checkUserID(v, id)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u RegisteredUser
	if _, err := c.do(ctx, http.MethodGet, userPath(id), "", nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// UpdateRegisteredUser changes the fields set in p (PATCH) and returns the
// user as it now is. It fails with a *ValidationError, sending nothing, when
// id is not a UUID or p is invalid.
func (c *Client) UpdateRegisteredUser(ctx context.Context, id string, p UpdateRegisteredUserParams) (*RegisteredUser, error) {
	v := validate.New("UpdateRegisteredUserParams")
	checkUserID(v, id)
	p.check(v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u RegisteredUser
	if _, err := c.do(ctx, http.MethodPatch, userPath(id), "", p, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteRegisteredUser deletes the registered user whose Agent Handler id is
// id. It fails with a *ValidationError, sending nothing, when id is not a
// UUID, and with an error matching mergelink.ErrNotFound when there is no
// such user.
func (c *Client) DeleteRegisteredUser(ctx context.Context, id string) error {
	v := validate.New("DeleteRegisteredUser")
	checkUserID(v, id)
	if err := v.Err(); err != nil {
		return err
	}
	_, err := c.do(ctx, http.MethodDelete, userPath(id), "", nil, nil)
	return err
}

func userPath(id string) string { return "/registered-users/" + url.PathEscape(id) + "/" }
