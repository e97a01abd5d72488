package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debugfile"
)

// debugDirsFlag adds --debug-file-directory, gdb's list of where separate
// debug files are installed, and returns its directories once parsed.
func debugDirsFlag(fs *pflag.FlagSet) func() []string {
	v := fs.String("debug-file-directory", strings.Join(debugfile.DefaultDirs, ":"), "where the separate debug file of a stripped program is looked for (by build ID, and by its .gnu_debuglink name) besides the program's own directory; colon-separated, as gdb's; empty: the program's directory only")
	return func() []string {
		var dirs []string
		for _, d := range strings.Split(*v, ":") {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
		return dirs
	}
}
