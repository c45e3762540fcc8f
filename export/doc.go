// Package export reads a membership system's export (CSV in any encoding a
// real export uses, or an .xlsx workbook) into Records, one per physical row.
//
// Bytes become text in decode.go (UTF-8, UTF-16, Windows-1252, Latin-1,
// never a U+FFFD), text becomes records in records.go (a CSV reader that
// resyncs after a runaway quote), workbooks in xlsx.go, files that are
// neither are named in sniff.go, columns become fields in header.go (and
// preset.go), cells become fields through gocsv in gocsv.go, dates
// (consent times among them) are read in dates.go, and reader.go ties them
// together and checks each row.
//
// It is a public package on purpose: enroll's API (Rows, enroll.Run)
// takes its Records, so a program outside this module can read an export
// and enroll it with the same rules as the command.
package export
