// Package templates holds the web console's HTML templates (*.html, one
// shared layout plus one file per page) and its static files (static/:
// the stylesheet and a small script), embedded in the binary so that the
// console needs no files on disk and no network access.
package templates

import "embed"

// FS holds every *.html template at its root and the static/ directory.
//
//go:embed *.html static
var FS embed.FS
