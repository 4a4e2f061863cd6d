package mergetest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EmployeesPerAccount is how many employees each HRIS Linked Account has
// unless SetEmployeeCount sets another number.
const EmployeesPerAccount = 5

// employee is a fake HRIS employee, in a few of the Employee common
// model's fields. Relations (company, manager, team, groups, locations,
// pay group, employments) are not kept: they are null or empty.
type employee struct {
	ID               string        `json:"id"`
	RemoteID         string        `json:"remote_id"`
	EmployeeNumber   string        `json:"employee_number"`
	FirstName        string        `json:"first_name"`
	LastName         string        `json:"last_name"`
	DisplayFullName  string        `json:"display_full_name"`
	WorkEmail        string        `json:"work_email"`
	PersonalEmail    string        `json:"personal_email"`
	EmploymentStatus string        `json:"employment_status"`
	StartDate        time.Time     `json:"start_date"`
	TerminationDate  *time.Time    `json:"termination_date"`
	RemoteWasDeleted bool          `json:"remote_was_deleted"`
	CreatedAt        time.Time     `json:"created_at"`
	ModifiedAt       time.Time     `json:"modified_at"`
	RemoteData       []employeeRaw `json:"remote_data"`
}

// employeeRaw is an entry of an employee's remote_data: what the
// integration answered, here made up.
type employeeRaw struct {
	Path string         `json:"path"`
	Data map[string]any `json:"data"`
}

// Employment statuses, as Merge's OpenAPI enumerates them.
var employmentStatuses = []string{"ACTIVE", "PENDING", "INACTIVE"}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen"}
)

// newEmployees makes n employees for a, the first one numbered from. Every
// fourth is INACTIVE, with a termination date; every fifth PENDING.
func (s *Server) newEmployees(a *account, from, n int, now time.Time) []employee {
	domain := strings.ToLower(strings.ReplaceAll(a.org, " ", "")) + ".example"
	out := make([]employee, n)
	for i := range out {
		k := from + i
		first, last := firstNames[k%len(firstNames)], lastNames[k%len(lastNames)]
		e := employee{
			ID: s.ids.id(), RemoteID: strconv.Itoa(1000 + k), EmployeeNumber: fmt.Sprintf("E-%03d", k+1),
			FirstName: first, LastName: last, DisplayFullName: first + " " + last,
			WorkEmail:        strings.ToLower(first+"."+last) + "@" + domain,
			PersonalEmail:    strings.ToLower(first) + strconv.Itoa(k+1) + "@mail.example",
			EmploymentStatus: "ACTIVE",
			StartDate:        now.AddDate(0, 0, -30*(k+1)).Truncate(24 * time.Hour),
			CreatedAt:        now, ModifiedAt: now,
		}
		switch {
		case k%4 == 3:
			e.EmploymentStatus = "INACTIVE"
			end := now.AddDate(0, 0, -k).Truncate(24 * time.Hour)
			e.TerminationDate = &end
		case k%5 == 4:
			e.EmploymentStatus = "PENDING"
		}
		out[i] = e
	}
	return out
}

// employeesOf returns a's employees, making EmployeesPerAccount of them on
// first use. It runs with s.mu held.
func (s *Server) employeesOf(a *account) []employee {
	if s.after.employees == nil {
		s.after.employees = map[string][]employee{}
	}
	es, ok := s.after.employees[a.id]
	if !ok {
		es = s.newEmployees(a, 0, EmployeesPerAccount, s.now().UTC())
		s.after.employees[a.id] = es
	}
	return es
}

// SetEmployeeCount gives the HRIS Linked Account with accountID n
// employees, keeping the first ones it had, so that a test can read
// several pages of GET hris/v1/employees. New employees are created and
// modified at the server's time (WithClock), so that an incremental sync
// on modified_after finds them. It fails with ErrUnknownAccount or
// ErrClosed, when the account is not an HRIS one, or when n is negative.
func (s *Server) SetEmployeeCount(accountID string, n int) error {
	if n < 0 {
		return fmt.Errorf("mergetest: SetEmployeeCount: n must not be negative, got %d", n)
	}
	return s.control(accountID, func(a *account) error {
		if a.category != "hris" {
			return fmt.Errorf("mergetest: SetEmployeeCount: the account is of category %s, not hris", a.category)
		}
		es := s.employeesOf(a)
		if n <= len(es) {
			s.after.employees[a.id] = slices.Clip(es[:n])
			return nil
		}
		s.after.employees[a.id] = append(es, s.newEmployees(a, len(es), n-len(es), s.now().UTC())...)
		return nil
	})
}

// employeeFilters are the filters of GET hris/v1/employees that compare one
// of the fields mergetest keeps, as Merge's OpenAPI lists them.
var employeeFilters = map[string]func(e *employee) string{
	"first_name":        func(e *employee) string { return e.FirstName },
	"last_name":         func(e *employee) string { return e.LastName },
	"display_full_name": func(e *employee) string { return e.DisplayFullName },
	"employee_number":   func(e *employee) string { return e.EmployeeNumber },
	"work_email":        func(e *employee) string { return e.WorkEmail },
	"personal_email":    func(e *employee) string { return e.PersonalEmail },
	"remote_id":         func(e *employee) string { return e.RemoteID },
	"employment_status": func(e *employee) string { return e.EmploymentStatus },
}

// employeeRelationFilters filter on relations mergetest does not keep (its
// employees have no company, manager, team, group, location, pay group or
// employment): given a value, they match no employee, as at Merge for an id
// that is none of the employee's.
var employeeRelationFilters = []string{
	"company_id", "manager_id", "team_id", "groups", "home_location_id", "work_location_id",
	"pay_group_id", "employment_type", "job_title",
}

// employeeTimeFilters map each date-time filter of GET hris/v1/employees to
// the time it compares, and whether it keeps what is after it.
var employeeTimeFilters = map[string]struct {
	at    func(e *employee) *time.Time
	after bool
}{
	"created_after":     {func(e *employee) *time.Time { return &e.CreatedAt }, true},
	"created_before":    {func(e *employee) *time.Time { return &e.CreatedAt }, false},
	"modified_after":    {func(e *employee) *time.Time { return &e.ModifiedAt }, true},
	"modified_before":   {func(e *employee) *time.Time { return &e.ModifiedAt }, false},
	"started_after":     {func(e *employee) *time.Time { return &e.StartDate }, true},
	"started_before":    {func(e *employee) *time.Time { return &e.StartDate }, false},
	"terminated_after":  {func(e *employee) *time.Time { return e.TerminationDate }, true},
	"terminated_before": {func(e *employee) *time.Time { return e.TerminationDate }, false},
}

// employeeBooleans are the boolean parameters of GET hris/v1/employees.
var employeeBooleans = []string{"include_deleted_data", "include_remote_data", "include_sensitive_fields", "include_shell_data"}

// listEmployees serves GET hris/v1/employees, with the filters of Merge's
// OpenAPI, in cursor pages.
func (s *Server) listEmployees(r *http.Request, a *account) reply {
	if a.category != "hris" {
		return notFound(r, nil)
	}
	q := r.URL.Query()
	var c checker
	times := timeFilters(&c, q, sortedKeys(employeeTimeFilters)...)
	if st := q.Get("employment_status"); q.Has("employment_status") && !slices.Contains(employmentStatuses, st) {
		c.invalid("", fmt.Sprintf("The employment_status filter %q is not a valid choice: use %s.", st, strings.Join(employmentStatuses, ", ")))
	}
	for _, name := range employeeBooleans {
		if v := q.Get(name); q.Has(name) && v != "true" && v != "false" {
			c.invalid("", fmt.Sprintf("The %s parameter must be true or false, not %q.", name, v))
		}
	}
	if len(c.problems) > 0 {
		return problems(c.problems...)
	}
	var found []employee
	for _, e := range s.employeesOf(a) {
		if employeeMatches(&e, q, times) {
			if q.Get("include_remote_data") == "true" {
				e.RemoteData = []employeeRaw{{Path: "/employees/" + e.RemoteID, Data: map[string]any{
					"id": e.RemoteID, "firstName": e.FirstName, "lastName": e.LastName, "workEmail": e.WorkEmail,
				}}}
			}
			found = append(found, e)
		}
	}
	return cursorReply(r, found)
}

// employeeMatches reports whether e passes the filters in q, whose
// date-time filters times holds parsed.
func employeeMatches(e *employee, q url.Values, times map[string]time.Time) bool {
	if e.RemoteWasDeleted && q.Get("include_deleted_data") != "true" {
		return false
	}
	for name, field := range employeeFilters {
		if q.Has(name) && q.Get(name) != field(e) {
			return false
		}
	}
	for _, name := range employeeRelationFilters {
		if q.Has(name) {
			return false
		}
	}
	for name, t := range times {
		f := employeeTimeFilters[name]
		at := f.at(e)
		if at == nil || f.after && !at.After(t) || !f.after && !at.Before(t) {
			return false
		}
	}
	return true
}

// getEmployee serves GET hris/v1/employees/{id}.
func (s *Server) getEmployee(r *http.Request, a *account) reply {
	if a.category != "hris" {
		return notFound(r, nil)
	}
	for _, e := range s.employeesOf(a) {
		if e.ID == r.PathValue("id") {
			return reply{http.StatusOK, e}
		}
	}
	return notFound(r, nil)
}
