package export

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gocarina/gocsv"
)

// csvRow is what gocsv fills; the tags are the canonical field names that
// the reader hands gocsv as the header.
type csvRow struct {
	Email            string `csv:"email"`
	ExternalMemberID string `csv:"external_member_id"`
	UserID           string `csv:"user_id"`
	FirstName        string `csv:"first_name"`
	LastName         string `csv:"last_name"`
	MembershipStatus string `csv:"membership_status"`
	MembershipType   string `csv:"membership_type"`
	HomeLocation     string `csv:"home_location"`
	JoinDate         string `csv:"join_date"`
	CancelDate       string `csv:"cancel_date"`
	Consent          string `csv:"consent"`
}

// mapper maps a row's cells onto a csvRow through gocsv, record by record:
// gocsv.UnmarshalDecoderToCallback runs in a goroutine of its own, over a
// gocsv.SimpleDecoder whose records are the cells Reader.Next hands it, as
// the resyncing record reader read them. So the cells reach gocsv as read,
// with no second CSV parse, and Next keeps reading the input itself: gocsv
// holds one row at a time and never reads ahead of Next.
type mapper struct {
	cols    []int         // the columns handed to gocsv, in its header's order
	picked  []string      // their cells, reused row after row
	cells   chan []string // Next -> gocsv: a row's picked cells
	rows    chan csvRow   // gocsv -> Next: the row mapped
	stopped chan struct{} // closed when gocsv has returned, err set
	err     error         // gocsv's return
	once    sync.Once
}

// cellDecoder is the mapper's gocsv.SimpleDecoder: the header, then each row
// Next hands over, then io.EOF once the mapper is closed.
type cellDecoder struct {
	header []string
	cells  <-chan []string
}

func (d *cellDecoder) GetCSVRow() ([]string, error) {
	if h := d.header; h != nil {
		d.header = nil
		return h, nil
	}
	c, ok := <-d.cells
	if !ok {
		return nil, io.EOF
	}
	return c, nil
}

// GetCSVRows is never called by the callback path gocsv takes.
func (d *cellDecoder) GetCSVRows() ([][]string, error) {
	return nil, errors.New("the rows are handed over one at a time")
}

// newMapper starts gocsv on the header of the mapped columns.
func newMapper(m *headerMap) *mapper {
	mp := &mapper{cells: make(chan []string), rows: make(chan csvRow), stopped: make(chan struct{})}
	var names []string
	for i, f := range m.canon {
		if f != "" {
			names = append(names, f)
			mp.cols = append(mp.cols, i)
		}
	}
	dec := &cellDecoder{header: names, cells: mp.cells}
	go func() {
		defer close(mp.stopped)
		mp.err = gocsv.UnmarshalDecoderToCallback(dec, func(r csvRow) { mp.rows <- r })
	}()
	return mp
}

// row maps a row's cells to the fields.
func (mp *mapper) row(cells []string) (csvRow, error) {
	mp.picked = mp.picked[:0]
	for _, i := range mp.cols {
		mp.picked = append(mp.picked, cells[i])
	}
	select {
	case mp.cells <- mp.picked:
	case <-mp.stopped:
		return csvRow{}, mp.stoppedErr()
	}
	select {
	case r := <-mp.rows:
		return r, nil
	case <-mp.stopped:
		return csvRow{}, mp.stoppedErr()
	}
}

// stoppedErr says why gocsv returned while rows were still handed over.
func (mp *mapper) stoppedErr() error {
	if mp.err == nil {
		return errors.New("gocsv stopped mapping cells to fields")
	}
	return fmt.Errorf("gocsv: %w", mp.err)
}

// close ends gocsv's goroutine; it may be called more than once.
func (mp *mapper) close() {
	mp.once.Do(func() { close(mp.cells) })
	<-mp.stopped
}
