// Package samples embeds the sample files, so that `pvenroll enroll
// --sandbox` and `pvenroll sandbox` run without a world file at hand.
package samples

import _ "embed"

// World is sandbox-world.json: the sandbox's default world.
//
//go:embed sandbox-world.json
var World []byte
