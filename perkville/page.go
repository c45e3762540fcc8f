package perkville

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// cappedPage is a page of objects decoded only up to the number asked for:
// an answer holding more (a hostile server's {"objects":[{},{},…]}) stops
// the decoding at the first object past the cap, so a worker never holds
// more than that many, whatever the answer's size.
type cappedPage[T any] struct {
	Meta    ListMeta         `json:"meta"`
	Objects cappedObjects[T] `json:"objects"`
}

func newCappedPage[T any](max int) *cappedPage[T] {
	return &cappedPage[T]{Objects: cappedObjects[T]{max: max}}
}

type cappedObjects[T any] struct {
	max   int
	items []T
}

// errTooManyObjects is an answer with more objects than were asked for.
type errTooManyObjects int

func (e errTooManyObjects) Error() string {
	return fmt.Sprintf("more than %d objects where at most %d were asked for", int(e), int(e))
}

func (c *cappedObjects[T]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil { // "objects": null
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("objects is not a list")
	}
	for dec.More() {
		if len(c.items) == c.max {
			return errTooManyObjects(c.max)
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		c.items = append(c.items, v)
	}
	return nil
}

// tooMany turns an answer refused for holding more objects than asked for
// into an *UnexpectedAnswer naming what was asked; other errors are
// returned as they are.
func tooMany(err error, path, what string) error {
	var n errTooManyObjects
	if !errors.As(err, &n) {
		return err
	}
	return &UnexpectedAnswer{Method: http.MethodGet, Path: path, Expected: fmt.Sprintf("at most %d %s", int(n), what),
		Got: fmt.Sprintf("more than %d: the answer was not read further", int(n))}
}
