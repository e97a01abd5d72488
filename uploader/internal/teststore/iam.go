package teststore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Roles known to the IAM double. Only RoleDebugInfoWriter grants
// debuginfo.write, which covers debuginfo and source uploads.
const (
	RoleDebugInfoWriter = "Debug Info Writer"
	RoleViewer          = "Viewer"
)

// IAM is a test double for Polar Signals' IAM as its migration guide
// describes it: service accounts with psc_v1_ tokens, role bindings
// (optionally scoped to one project), the project chosen by a projectID
// header, legacy JWT project tokens that carry their project, and revocation.
// Use its Authorize as Options.Authorize.
type IAM struct {
	// EchoCredentials makes every error quote the authorization header and
	// every x-* header it received, like a careless server, so tests can
	// check redaction.
	EchoCredentials bool

	mu       sync.Mutex
	key      []byte // signs legacy project tokens
	projects map[string]bool
	accounts map[string]bool
	bindings []roleBinding
	tokens   map[string]*iamToken
}

type roleBinding struct {
	account, role, project string // project "" = every project
}

type iamToken struct {
	account string // service-account tokens
	project string // legacy project tokens
	revoked bool
}

// NewIAM returns an IAM with no projects, accounts or tokens.
func NewIAM() *IAM {
	return &IAM{key: iamRandom(32), projects: map[string]bool{}, accounts: map[string]bool{}, tokens: map[string]*iamToken{}}
}

// AddProject creates a project; uploads name it in the projectID header.
func (i *IAM) AddProject(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.projects[id] = true
}

// CreateServiceAccount creates a named service account with no roles.
func (i *IAM) CreateServiceAccount(name string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.accounts[name] = true
}

// Bind grants role to account on project, or on every project when project is "".
func (i *IAM) Bind(account, role, project string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.accounts[account] {
		panic("teststore.IAM: no service account " + account)
	}
	i.bindings = append(i.bindings, roleBinding{account, role, project})
}

// CreateToken issues a service-account token: psc_v1_ and 64 random hex digits.
func (i *IAM) CreateToken(account string) string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.accounts[account] {
		panic("teststore.IAM: no service account " + account)
	}
	tok := "psc_v1_" + hex.EncodeToString(iamRandom(32))
	i.tokens[tok] = &iamToken{account: account}
	return tok
}

// CreateProjectToken issues a legacy project token: an HS256 JWT whose
// payload names the project (claim "project_id").
func (i *IAM) CreateProjectToken(project string) string {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.projects[project] = true
	enc := base64.RawURLEncoding.EncodeToString
	hdr, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(map[string]any{
		"iss": "teststore-iam", "sub": "project-token", "project_id": project,
		"iat": time.Now().Unix(), "jti": hex.EncodeToString(iamRandom(8)),
	})
	signing := enc(hdr) + "." + enc(payload)
	tok := signing + "." + enc(i.sign(signing))
	i.tokens[tok] = &iamToken{project: project}
	return tok
}

// Revoke makes a token (either kind) fail from now on.
func (i *IAM) Revoke(token string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if t := i.tokens[token]; t != nil {
		t.revoked = true
	}
}

func (i *IAM) sign(s string) []byte {
	m := hmac.New(sha256.New, i.key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// jwtProject checks a legacy token's signature and returns its project.
func (i *IAM) jwtProject(tok string) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, i.sign(parts[0]+"."+parts[1])) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var claims struct {
		Project string `json:"project_id"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Project == "" {
		return "", false
	}
	return claims.Project, true
}

// Authorize enforces the IAM rules on one RPC from its incoming metadata:
// Unauthenticated for a missing, unknown or revoked token; InvalidArgument
// for a service-account token without a projectID header; PermissionDenied
// without debuginfo.write on that project (or a legacy token used for
// another project than its own).
func (i *IAM) Authorize(ctx context.Context, fullMethod string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	auth := iamFirst(md, "authorization")
	project := iamFirst(md, "projectid")
	fail := func(c codes.Code, format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		if i.EchoCredentials {
			msg += fmt.Sprintf(" (authorization: %q)", auth)
			for _, k := range slices.Sorted(maps.Keys(md)) {
				if strings.HasPrefix(k, "x-") {
					msg += fmt.Sprintf(" (you sent %s=%s)", k, strings.Join(md[k], ","))
				}
			}
		}
		return status.Error(c, msg)
	}
	if auth == "" {
		return fail(codes.Unauthenticated, "missing authorization header")
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "bearer ")
	}
	if !ok || tok == "" {
		return fail(codes.Unauthenticated, "authorization header is not \"Bearer <token>\"")
	}

	i.mu.Lock()
	defer i.mu.Unlock()
	t := i.tokens[tok]
	switch {
	case t == nil:
		return fail(codes.Unauthenticated, "invalid token")
	case t.revoked:
		return fail(codes.Unauthenticated, "token has been revoked")
	case t.project != "":
		own, ok := i.jwtProject(tok)
		if !ok {
			return fail(codes.Unauthenticated, "invalid token")
		}
		if project != "" && project != own {
			return fail(codes.PermissionDenied, "project token is not valid for project %q", project)
		}
		return nil
	}
	if project == "" {
		return fail(codes.InvalidArgument, "missing projectID header: service account tokens require the project to be specified")
	}
	if !i.projects[project] {
		return fail(codes.PermissionDenied, "service account %q has no access to project %q", t.account, project)
	}
	for _, b := range i.bindings {
		if b.account == t.account && b.role == RoleDebugInfoWriter && (b.project == "" || b.project == project) {
			return nil
		}
	}
	return fail(codes.PermissionDenied, "service account %q lacks permission debuginfo.write on project %q", t.account, project)
}

func iamFirst(md metadata.MD, k string) string {
	if v := md.Get(k); len(v) > 0 {
		return v[0]
	}
	return ""
}

func iamRandom(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
