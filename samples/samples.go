// Package samples embeds the sample files, so that `pvenroll enroll
// --sandbox` and `pvenroll sandbox` run without a world file at hand, and
// `pvenroll samples` writes the exports and deploy files anywhere.
package samples

import "embed"

// World is sandbox-world.json: the sandbox's default world.
//
//go:embed sandbox-world.json
var World []byte

// Files are the sample export, the exports of each preset's shape, the
// sandbox world and the deploy files, by their paths in this folder.
//
//go:embed members.csv sandbox-world.json exports deploy
var Files embed.FS
