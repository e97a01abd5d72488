package cli

import (
	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
)

// compressFlag adds --compress-debug-sections (objcopy's name for the same
// thing) and returns its value's parser.
func compressFlag(fs *pflag.FlagSet) func() (elfdebug.Compression, error) {
	v := fs.String("compress-debug-sections", elfdebug.Zlib.String(),
		"compress the DWARF of extracted files: "+elfdebug.Compressions+" (sections already compressed are kept as they are)")
	return func() (elfdebug.Compression, error) { return elfdebug.ParseCompression(*v) }
}
