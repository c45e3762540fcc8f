package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

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
	Consent          string `csv:"consent"`
}

// feed hands gocsv's csv.Reader one record at a time, written the way
// encoding/csv reads without error: the resyncing record reader does the
// real parsing, gocsv the mapping of cells to fields.
type feed struct {
	b   []byte
	off int
}

func (f *feed) Read(p []byte) (int, error) {
	if f.off >= len(f.b) {
		return 0, io.EOF
	}
	n := copy(p, f.b[f.off:])
	f.off += n
	return n, nil
}

// put writes one canonical CSV record; every empty cell is quoted, so
// that no record is a blank line encoding/csv would skip.
func (f *feed) put(cells []string) {
	f.b, f.off = f.b[:0], 0
	for i, c := range cells {
		if i > 0 {
			f.b = append(f.b, ',')
		}
		if c != "" && !strings.ContainsAny(c, "\",\r\n") {
			f.b = append(f.b, c...)
			continue
		}
		f.b = append(f.b, '"')
		f.b = append(f.b, strings.ReplaceAll(c, `"`, `""`)...)
		f.b = append(f.b, '"')
	}
	f.b = append(f.b, '\n')
}

// startGocsv hands gocsv the header of the mapped columns.
func (rd *Reader) startGocsv(m *headerMap) error {
	var names []string
	for i, f := range m.canon {
		if f != "" {
			names = append(names, f)
			rd.feedCols = append(rd.feedCols, i)
		}
	}
	rd.feed.put(names)
	cr := csv.NewReader(&rd.feed)
	cr.ReuseRecord = true
	um, err := gocsv.NewUnmarshaller(cr, csvRow{})
	if err != nil {
		return fmt.Errorf("%s: line 1: %w", rd.name, err)
	}
	rd.um = um
	return nil
}

// unmarshal maps a row's cells to the fields, through gocsv.
func (rd *Reader) unmarshal(cells []string) (csvRow, error) {
	rd.picked = rd.picked[:0]
	for _, i := range rd.feedCols {
		rd.picked = append(rd.picked, cells[i])
	}
	rd.feed.put(rd.picked)
	v, err := rd.um.Read()
	if err != nil {
		return csvRow{}, err
	}
	return v.(csvRow), nil
}
