package enroll

import (
	"context"
	"slices"
	"sync"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// turnRecorder stands for the rate limit's turns: it notes which kind each
// batch asked for. A turn behind rows not begun never comes by itself (a
// long queue of lookups): only the batch's promotion ends that wait. A
// turn ahead of them comes at once.
type turnRecorder struct {
	mu    sync.Mutex
	asked []bool // begun, per turn asked
}

func (r *turnRecorder) take(ctx context.Context, begun bool) (*pv.Turn, error) {
	r.mu.Lock()
	r.asked = append(r.asked, begun)
	r.mu.Unlock()
	if !begun {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, nil // nil: the request waits for its own turn, at once here
}

func (r *turnRecorder) askedIs(n int) func() bool {
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.asked) == n
	}
}

// A due batch waits its turn behind rows not yet begun while rows join it;
// once it holds aheadRows rows it stops waiting there and goes ahead of
// them, so that few rows wait looked up and unwritten.
func TestBatchGoesAheadOnceItHoldsAheadRows(t *testing.T) {
	b, fc, s := batchFixture(t, 10)
	b.aheadRows = 2
	turns := &turnRecorder{}
	b.takeTurn = turns.take
	defer b.expect().leave() // a row still finding its connection
	first := startAccept(b, 1)
	waitFor(t, "the first row to open a batch", b.openRowsIs(1))
	if fc.fire() != 1 {
		t.Fatal("want one timer: the open batch's")
	}
	waitFor(t, "the due batch to wait its turn", turns.askedIs(1))
	second := startAccept(b, 2)
	first.wait(t)
	second.wait(t)
	if want := []bool{false, true}; !slices.Equal(turns.asked, want) {
		t.Fatalf("turns asked (begun?) %v, want %v", turns.asked, want)
	}
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests, want 1", n)
	}
}

// A batch that holds aheadRows rows when it is due goes ahead at once.
func TestBatchOfAheadRowsGoesAheadAtOnce(t *testing.T) {
	b, fc, s := batchFixture(t, 10)
	b.aheadRows = 2
	turns := &turnRecorder{}
	b.takeTurn = turns.take
	defer b.expect().leave()
	first := startAccept(b, 1)
	waitFor(t, "the first row to open a batch", b.openRowsIs(1))
	second := startAccept(b, 2)
	waitFor(t, "the second row to join it", b.openRowsIs(2))
	fc.fire()
	first.wait(t)
	second.wait(t)
	if want := []bool{true}; !slices.Equal(turns.asked, want) {
		t.Fatalf("turns asked (begun?) %v, want %v", turns.asked, want)
	}
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests, want 1", n)
	}
}
