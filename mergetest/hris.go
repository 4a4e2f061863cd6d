package mergetest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EmployeesPerAccount is how many employees each HRIS Linked Account has
// unless SetEmployeeCount sets another number.
const EmployeesPerAccount = 5

// employee is a fake HRIS employee, in a few of the Employee common
// model's fields.
type employee struct {
	ID               string    `json:"id"`
	RemoteID         string    `json:"remote_id"`
	EmployeeNumber   string    `json:"employee_number"`
	FirstName        string    `json:"first_name"`
	LastName         string    `json:"last_name"`
	DisplayFullName  string    `json:"display_full_name"`
	WorkEmail        string    `json:"work_email"`
	EmploymentStatus string    `json:"employment_status"`
	RemoteWasDeleted bool      `json:"remote_was_deleted"`
	CreatedAt        time.Time `json:"created_at"`
	ModifiedAt       time.Time `json:"modified_at"`
}

var (
	firstNames = []string{"Ada", "Grace", "Alan", "Katherine", "Edsger", "Barbara", "Donald", "Frances"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen"}
)

// newEmployees makes n employees for a, the first one numbered from.
func newEmployees(a *account, from, n int, now time.Time) []employee {
	domain := strings.ToLower(strings.ReplaceAll(a.org, " ", "")) + ".example"
	out := make([]employee, n)
	for i := range out {
		k := from + i
		first, last := firstNames[k%len(firstNames)], lastNames[k%len(lastNames)]
		out[i] = employee{
			ID: newID(), RemoteID: fmt.Sprintf("%d", 1000+k), EmployeeNumber: fmt.Sprintf("E-%03d", k+1),
			FirstName: first, LastName: last, DisplayFullName: first + " " + last,
			WorkEmail:        strings.ToLower(first+"."+last) + "@" + domain,
			EmploymentStatus: "ACTIVE", CreatedAt: now, ModifiedAt: now,
		}
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
		es = newEmployees(a, 0, EmployeesPerAccount, s.now().UTC())
		s.after.employees[a.id] = es
	}
	return es
}

// SetEmployeeCount gives the HRIS Linked Account with accountID n
// employees, keeping the first ones it had, so that a test can read
// several pages of GET hris/v1/employees. It fails with ErrUnknownAccount
// or ErrClosed, when the account is not an HRIS one, or when n is
// negative.
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
		s.after.employees[a.id] = append(es, newEmployees(a, len(es), n-len(es), s.now().UTC())...)
		return nil
	})
}

// listEmployees serves GET hris/v1/employees, in cursor pages.
func (s *Server) listEmployees(r *http.Request, a *account) reply {
	if a.category != "hris" {
		return notFound(r, nil)
	}
	return cursorReply(r, s.employeesOf(a))
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
