package creds

import (
	"reflect"
	"testing"
)

// What `debuginfo auth check` reports as "headers": the extra metadata names
// sent, in a stable order, never the project or authorization (shown
// elsewhere, and a value there is a secret).
func TestInfoHeadersNameOnlyTheExtraMetadata(t *testing.T) {
	o := Options{GRPCHeaders: []string{"x-zone=1;projectID=p2;authorization=Bearer " + saToken, "x-extra=2;a-first=3"}}
	for i := 0; i < 5; i++ { // map order must not show through
		p, err := Resolve(&o, "grpc.example.com:443", true, env())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Info().Headers, []string{"a-first", "x-extra", "x-zone"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Info().Headers = %q, want %q", got, want)
		}
	}
}
