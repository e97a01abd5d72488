package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
)

// compressFlag adds --compress-debug-sections (objcopy's name for the same
// thing) and returns its value's parser.
func compressFlag(fs *pflag.FlagSet) func() (elfdebug.Compression, error) {
	v := fs.String("compress-debug-sections", elfdebug.Zlib.String(),
		"compress the DWARF of extracted files: "+elfdebug.Compressions+" (sections already compressed are kept as they are)")
	return func() (elfdebug.Compression, error) {
		c, err := elfdebug.ParseCompression(*v)
		if err != nil {
			// Usage errors show no value (it may be a misplaced secret).
			return 0, fmt.Errorf("--compress-debug-sections: want %s (value not shown)", elfdebug.Compressions)
		}
		return c, nil
	}
}
