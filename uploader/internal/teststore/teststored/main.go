// Command teststored serves the in-process test store (Parca's rules plus
// Polar Signals' IAM rules) on a loopback address, for scripts that test the
// tool from outside Go (the Make include's e2e). It creates one project and
// one service account with the Debug Info Writer role on it, writes that
// account's psc_v1_ token to -token-file (mode 0600), prints the address and
// serves until it is killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	project := flag.String("project", "proj-a", "the project the token may upload to")
	tokenFile := flag.String("token-file", "", "where to write the service-account token (required)")
	flag.Parse()
	if *tokenFile == "" {
		log.Fatal("teststored: -token-file is required")
	}
	iam := teststore.NewIAM()
	iam.AddProject(*project)
	iam.CreateServiceAccount("ci-debuginfo-uploader")
	iam.Bind("ci-debuginfo-uploader", teststore.RoleDebugInfoWriter, *project)
	if err := os.WriteFile(*tokenFile, []byte(iam.CreateToken("ci-debuginfo-uploader")+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	srv, err := teststore.Listen(*addr, teststore.Options{Authorize: iam.Authorize})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	srv.Stop()
}
