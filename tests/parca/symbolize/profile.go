package symbolize

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"google.golang.org/protobuf/types/known/timestamppb"

	profilestorepb "github.com/parca-dev/parca/gen/proto/go/parca/profilestore/v1alpha1"
	querypb "github.com/parca-dev/parca/gen/proto/go/parca/query/v1alpha1"
)

// profileName is the __name__ of every profile the suite writes.
const profileName = "symbolize_check"

// Frame is one line of a symbolized location: innermost (inlined) first,
// as pprof orders them.
type Frame struct {
	Function string
	File     string
	Line     int64
}

func (f Frame) String() string { return fmt.Sprintf("%s %s:%d", f.Function, f.File, f.Line) }

// Write stores one CPU profile with a sample per address, all in mapping m,
// and no function names: Parca must find them. The series is labelled
// series=NAME, which Query selects.
func Write(ctx context.Context, c Clients, series string, m Mapping, addrs []uint64, at time.Time) error {
	pm := &profile.Mapping{ID: 1, Start: m.Start, Limit: m.Limit, Offset: m.Offset, File: m.File, BuildID: m.BuildID}
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		TimeNanos:     at.UnixNano(),
		DurationNanos: int64(time.Second),
		Mapping:       []*profile.Mapping{pm},
	}
	for i, a := range addrs {
		loc := &profile.Location{ID: uint64(i + 1), Mapping: pm, Address: a}
		p.Location = append(p.Location, loc)
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{loc}, Value: []int64{int64(i + 1)}})
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil { // gzipped, as profilers send it
		return err
	}
	_, err := c.Store.WriteRaw(ctx, &profilestorepb.WriteRawRequest{
		Series: []*profilestorepb.RawProfileSeries{{
			Labels: &profilestorepb.LabelSet{Labels: []*profilestorepb.Label{
				{Name: "__name__", Value: profileName},
				{Name: "series", Value: series},
			}},
			Samples: []*profilestorepb.RawSample{{RawProfile: buf.Bytes()}},
		}},
	})
	if err != nil {
		return fmt.Errorf("WriteRaw: %w", err)
	}
	return nil
}

// queryType is the profile type string Parca gives the written profiles.
func queryType(ctx context.Context, c Clients) (string, error) {
	resp, err := c.Query.ProfileTypes(ctx, &querypb.ProfileTypesRequest{})
	if err != nil {
		return "", fmt.Errorf("ProfileTypes: %w", err)
	}
	for _, t := range resp.Types {
		if t.Name == profileName {
			s := strings.Join([]string{t.Name, t.SampleType, t.SampleUnit, t.PeriodType, t.PeriodUnit}, ":")
			if t.Delta {
				s += ":delta"
			}
			return s, nil
		}
	}
	return "", fmt.Errorf("Parca lists no profile type named %s", profileName)
}

func mergeRequest(ctx context.Context, c Clients, series string, at time.Time) (*querypb.QueryRequest, error) {
	typ, err := queryType(ctx, c)
	if err != nil {
		return nil, err
	}
	return &querypb.QueryRequest{
		Mode: querypb.QueryRequest_MODE_MERGE,
		Options: &querypb.QueryRequest_Merge{Merge: &querypb.MergeProfile{
			Query: fmt.Sprintf(`%s{series=%q}`, typ, series),
			Start: timestamppb.New(at.Add(-time.Minute)),
			End:   timestamppb.New(at.Add(time.Minute)),
		}},
	}, nil
}

// Query asks Parca for the series as a pprof report and returns the frames
// it shows for each address.
func Query(ctx context.Context, c Clients, series string, at time.Time) (map[uint64][]Frame, error) {
	req, err := mergeRequest(ctx, c, series, at)
	if err != nil {
		return nil, err
	}
	req.ReportType = querypb.QueryRequest_REPORT_TYPE_PPROF
	resp, err := c.Query.Query(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("Query pprof: %w", err)
	}
	p, err := profile.ParseData(resp.GetPprof())
	if err != nil {
		return nil, fmt.Errorf("Parca's pprof report: %w", err)
	}
	out := map[uint64][]Frame{}
	for _, loc := range p.Location {
		var frames []Frame
		for _, l := range loc.Line {
			f := Frame{Line: l.Line}
			if l.Function != nil {
				f.Function, f.File = l.Function.Name, l.Function.Filename
			}
			frames = append(frames, f)
		}
		out[loc.Address] = frames
	}
	return out, nil
}

// Source asks Parca for the SOURCE report of filename (as Parca names it in
// frames) under buildID, and returns the source text it serves.
func Source(ctx context.Context, c Clients, series string, at time.Time, buildID, filename string) (string, error) {
	req, err := mergeRequest(ctx, c, series, at)
	if err != nil {
		return "", err
	}
	req.ReportType = querypb.QueryRequest_REPORT_TYPE_SOURCE
	req.SourceReference = &querypb.SourceReference{BuildId: buildID, Filename: filename}
	resp, err := c.Query.Query(ctx, req)
	if err != nil {
		return "", fmt.Errorf("Query source %s: %w", filename, err)
	}
	return resp.GetSource().GetSource(), nil
}

// FileNames are the distinct file names in frames, sorted.
func FileNames(frames map[uint64][]Frame) []string {
	seen := map[string]bool{}
	for _, fs := range frames {
		for _, f := range fs {
			if f.File != "" {
				seen[f.File] = true
			}
		}
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}
