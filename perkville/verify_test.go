package perkville_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// An external-member answer is believed only for the customer the row's
// email finds when read back: the same connection of the same user.
func TestCheckMemberAnswer(t *testing.T) {
	found := &pv.Connection{ConnectionID: 11, Business: pv.BusinessPath(25), User: pv.UserPath(1)}
	for _, tt := range []struct {
		name   string
		answer pv.ExternalMember
		found  *pv.Connection
		want   string // "" for believed; else in the *OtherCustomer's message
	}{
		{"the same connection and user", pv.ExternalMember{Connection: pv.ConnectionPath(11), User: pv.UserPath(1)}, found, ""},
		{"no connection in the answer", pv.ExternalMember{User: pv.UserPath(1)}, found, ""},
		{"neither in the answer", pv.ExternalMember{}, found, ""},
		{"another connection", pv.ExternalMember{Connection: pv.ConnectionPath(12), User: pv.UserPath(1)}, found,
			`the answer names connection "/v2/connections/12/" of user "/v2/users/1/", and the email finds connection 11 of user 1`},
		{"another user", pv.ExternalMember{Connection: pv.ConnectionPath(11), User: pv.UserPath(2)}, found, `of user "/v2/users/2/", and the email finds connection 11 of user 1`},
		{"another user, no connection", pv.ExternalMember{User: pv.UserPath(2)}, found, "no connection of user"},
		{"an unreadable connection", pv.ExternalMember{Connection: "/v2/connections/x/"}, found, "and the email finds connection 11"},
		{"the email finds nobody", pv.ExternalMember{Connection: pv.ConnectionPath(11)}, nil, "the email finds no connection"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := pv.CheckMemberAnswer("pat@x.co", &tt.answer, tt.found)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oc *pv.OtherCustomer
			if !errors.As(err, &oc) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "was for pat@x.co") {
				t.Fatalf("got %v, want an *OtherCustomer saying %q", err, tt.want)
			}
			if pv.ClassOf(err) != pv.ClassRow {
				t.Errorf("class %v: one row's conflict, never the run's", pv.ClassOf(err))
			}
		})
	}
}

// A connection read by its id is checked like any other: one of another
// business, or answered under another id, is an *UnexpectedAnswer.
func TestConnectionByID(t *testing.T) {
	w := testWorld()
	other, odd := int64(77), int64(5)
	w.Users[1].Connection.Business = other
	w.Users[2].Connection.AnswerID = &odd
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	c := newClient(t, s.URL, adminToken, pv.Options{})
	conn, err := c.Connection(context.Background(), business, 1001)
	if err != nil || conn.ConnectionID != 1001 || conn.Status != pv.StatusImported {
		t.Fatalf("connection 1001: %+v %v", conn, err)
	}
	for _, id := range []int64{1002, 1003} {
		var ua *pv.UnexpectedAnswer
		if _, err := c.Connection(context.Background(), business, id); !errors.As(err, &ua) {
			t.Errorf("connection %d: %v, want an unexpected answer", id, err)
		}
	}
}
