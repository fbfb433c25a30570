// Package web embeds the built web UI (web/dist). Until `npm run build` has run, dist
// holds only .gitkeep and the placeholder page is served instead, so Go builds and
// tests never need Node.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

//go:embed placeholder
var placeholder embed.FS

// Dist returns the built UI's files, or the placeholder when the UI was not built.
func Dist() fs.FS {
	root := "dist"
	files := dist
	if _, err := fs.Stat(dist, "dist/index.html"); err != nil {
		root, files = "placeholder", placeholder
	}
	sub, err := fs.Sub(files, root)
	if err != nil {
		panic(err) // the embed patterns guarantee both folders exist
	}
	return sub
}
