package teststore

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestIAMAuthorize(t *testing.T) {
	iam := NewIAM()
	iam.AddProject("proj-a")
	iam.AddProject("proj-b")
	iam.CreateServiceAccount("ci-uploader") // Debug Info Writer on every project
	iam.CreateServiceAccount("scoped")      // Debug Info Writer on proj-a only
	iam.CreateServiceAccount("viewer")      // no write permission
	iam.CreateServiceAccount("no-role")     // no binding at all
	iam.Bind("ci-uploader", RoleDebugInfoWriter, "")
	iam.Bind("scoped", RoleDebugInfoWriter, "proj-a")
	iam.Bind("viewer", RoleViewer, "")
	ci, scoped, viewer, noRole := iam.CreateToken("ci-uploader"), iam.CreateToken("scoped"), iam.CreateToken("viewer"), iam.CreateToken("no-role")
	legacy := iam.CreateProjectToken("proj-a")
	revoked := iam.CreateToken("ci-uploader")
	iam.Revoke(revoked)
	revokedJWT := iam.CreateProjectToken("proj-b")
	iam.Revoke(revokedJWT)
	forged := legacy[:strings.LastIndex(legacy, ".")] + ".AAAA"

	if len(ci) != 7+64 || !strings.HasPrefix(ci, "psc_v1_") || ci == scoped {
		t.Fatalf("token shape: %q", ci)
	}
	if strings.Count(legacy, ".") != 2 {
		t.Fatalf("legacy token is not a JWT: %q", legacy)
	}

	for _, tc := range []struct {
		name    string
		md      []string
		code    codes.Code
		msgPart string
	}{
		{"no metadata", nil, codes.Unauthenticated, "missing authorization"},
		{"not bearer", []string{"authorization", "Basic " + ci}, codes.Unauthenticated, "Bearer"},
		{"unknown", []string{"authorization", "Bearer psc_v1_" + strings.Repeat("0", 64), "projectid", "proj-a"}, codes.Unauthenticated, "invalid token"},
		{"revoked", []string{"authorization", "Bearer " + revoked, "projectid", "proj-a"}, codes.Unauthenticated, "revoked"},
		{"revoked jwt", []string{"authorization", "Bearer " + revokedJWT}, codes.Unauthenticated, "revoked"},
		{"forged jwt", []string{"authorization", "Bearer " + forged}, codes.Unauthenticated, "invalid token"},
		{"sa without project", []string{"authorization", "Bearer " + ci}, codes.InvalidArgument, "projectID"},
		{"sa ok a", []string{"authorization", "Bearer " + ci, "projectid", "proj-a"}, codes.OK, ""},
		{"sa ok b", []string{"authorization", "Bearer " + ci, "projectid", "proj-b"}, codes.OK, ""},
		{"sa unknown project", []string{"authorization", "Bearer " + ci, "projectid", "proj-z"}, codes.PermissionDenied, "proj-z"},
		{"scoped in scope", []string{"authorization", "Bearer " + scoped, "projectid", "proj-a"}, codes.OK, ""},
		{"scoped out of scope", []string{"authorization", "Bearer " + scoped, "projectid", "proj-b"}, codes.PermissionDenied, "debuginfo.write"},
		{"viewer", []string{"authorization", "Bearer " + viewer, "projectid", "proj-a"}, codes.PermissionDenied, "debuginfo.write"},
		{"no role", []string{"authorization", "Bearer " + noRole, "projectid", "proj-a"}, codes.PermissionDenied, "debuginfo.write"},
		{"legacy without header", []string{"authorization", "Bearer " + legacy}, codes.OK, ""},
		{"legacy own project", []string{"authorization", "Bearer " + legacy, "projectid", "proj-a"}, codes.OK, ""},
		{"legacy other project", []string{"authorization", "Bearer " + legacy, "projectid", "proj-b"}, codes.PermissionDenied, "proj-b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.md != nil {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(tc.md...))
			}
			err := iam.Authorize(ctx, "/parca.debuginfo.v1alpha1.DebuginfoService/ShouldInitiateUpload")
			st, _ := status.FromError(err)
			if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msgPart) {
				t.Fatalf("Authorize = %v, want %v containing %q", err, tc.code, tc.msgPart)
			}
		})
	}

	// Echoing servers quote the header, tokens and all (for redaction tests).
	iam.EchoCredentials = true
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+revoked))
	if err := iam.Authorize(ctx, "/x/y"); err == nil || !strings.Contains(err.Error(), revoked) {
		t.Errorf("echo: %v", err)
	}
}
