package store

import (
	"context"
	"time"

	"google.golang.org/grpc/status"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// AuthCheckBuildID is what CheckAuth asks the store about: obviously fake,
// and ShouldInitiateUpload only answers a question, it initiates nothing.
const AuthCheckBuildID = "debuginfo-auth-check-0000"

// CheckAuth asks the gRPC store at address whether it wants
// AuthCheckBuildID: one call, not retried, that needs the same credentials
// and project as an upload. code names the store's answer ("OK",
// "PermissionDenied", ...; "" when no call could be made); err is that
// answer explained by Explain, as an upload's refusal is.
func CheckAuth(ctx context.Context, address string, cfg Config) (code string, err error) {
	cfg.Retry.Attempts = 1
	if cfg.CallTimeout <= 0 {
		if d, ok := ctx.Deadline(); ok {
			cfg.CallTimeout = time.Until(d)
		}
	}
	g, err := openGRPC(address, cfg)
	if err != nil {
		return "", err
	}
	defer g.Close()
	err = g.unary(ctx, func(ctx context.Context) error {
		_, err := g.client.ShouldInitiateUpload(ctx, &pb.ShouldInitiateUploadRequest{
			BuildId: AuthCheckBuildID, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED,
		})
		return err
	})
	return status.Code(err).String(), g.explain(ctx, err)
}
