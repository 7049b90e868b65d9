// A Go gRPC server for client benchmarks: fast enough that the Node client,
// not the server, is the bottleneck. Greeter.SayHello; RouteGuide.ListFeatures
// streams -features messages; RecordRoute counts what it receives; RouteChat
// echoes each note. -max-streams advertises a stream limit per connection
// (SETTINGS_MAX_CONCURRENT_STREAMS) and -delay makes each SayHello take that
// long, for the stream-limit benchmark. -stall-every N makes one SayHello in N
// (at random) take -stall longer, -fail-every N fails one in N with
// UNAVAILABLE, -health serves grpc.health.v1, and -max-age (with
// -max-age-grace) closes each connection after that long, as grpc-go does
// (GOAWAY, a ping, GOAWAY with the last stream id, close after the grace).
// Lines on stdin change the knobs while it runs ("stall-every 50", "stall 300ms", "fail-every 0",
// "health NOT_SERVING", "health SERVING"); each is answered "ok". "calls"
// answers "ok N": the SayHello calls received since it was last asked. Built by
// harness/go-server.ts with Debian's Go and grpc-go.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	hw "bgbench/helloworld"
	rg "bgbench/routeguide"
)

// knobs change while the server runs (from stdin), so they are atomics.
type knobs struct {
	stallEvery int64 // 0: never
	stallNs    int64
	failEvery  int64 // 0: never
	calls      int64 // SayHello calls received
}

type greeter struct {
	hw.UnimplementedGreeterServer
	delay time.Duration
	knobs *knobs
}

// oneIn is true once in n calls at random (never for n <= 0).
func oneIn(n int64) bool {
	return n > 0 && rand.Int63n(n) == 0
}

func (g greeter) SayHello(_ context.Context, in *hw.HelloRequest) (*hw.HelloReply, error) {
	atomic.AddInt64(&g.knobs.calls, 1)
	if g.delay > 0 {
		time.Sleep(g.delay)
	}
	if oneIn(atomic.LoadInt64(&g.knobs.failEvery)) {
		return nil, status.Error(codes.Unavailable, "failing on purpose (-fail-every)")
	}
	if oneIn(atomic.LoadInt64(&g.knobs.stallEvery)) {
		time.Sleep(time.Duration(atomic.LoadInt64(&g.knobs.stallNs)))
	}
	return &hw.HelloReply{Message: "Hello " + in.GetName()}, nil
}

// control reads knob changes from stdin, one per line, and exits when stdin closes.
func control(k *knobs, hs *health.Server) {
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) == 1 && fields[0] == "calls" {
			fmt.Println("ok", atomic.SwapInt64(&k.calls, 0))
			continue
		}
		if len(fields) != 2 {
			fmt.Println("error: expected a knob and a value")
			continue
		}
		var err error
		switch fields[0] {
		case "stall-every", "fail-every":
			var n int64
			n, err = strconv.ParseInt(fields[1], 10, 64)
			if err == nil && fields[0] == "stall-every" {
				atomic.StoreInt64(&k.stallEvery, n)
			} else if err == nil {
				atomic.StoreInt64(&k.failEvery, n)
			}
		case "stall":
			var d time.Duration
			d, err = time.ParseDuration(fields[1])
			if err == nil {
				atomic.StoreInt64(&k.stallNs, int64(d))
			}
		case "health":
			value, known := healthpb.HealthCheckResponse_ServingStatus_value[fields[1]]
			if hs == nil || !known {
				err = fmt.Errorf("no health service, or unknown status %q", fields[1])
			} else {
				hs.SetServingStatus("", healthpb.HealthCheckResponse_ServingStatus(value))
			}
		default:
			err = fmt.Errorf("unknown knob %q", fields[0])
		}
		if err != nil {
			fmt.Println("error:", err)
		} else {
			fmt.Println("ok")
		}
	}
	os.Exit(0)
}

type routeGuide struct {
	rg.UnimplementedRouteGuideServer
	features []*rg.Feature
}

func (r *routeGuide) GetFeature(_ context.Context, p *rg.Point) (*rg.Feature, error) {
	return &rg.Feature{Location: p}, nil
}

func (r *routeGuide) ListFeatures(_ *rg.Rectangle, stream rg.RouteGuide_ListFeaturesServer) error {
	for _, f := range r.features {
		if err := stream.Send(f); err != nil {
			return err
		}
	}
	return nil
}

func (r *routeGuide) RecordRoute(stream rg.RouteGuide_RecordRouteServer) error {
	var count int32
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&rg.RouteSummary{PointCount: count})
		}
		if err != nil {
			return err
		}
		count++
	}
}

func (r *routeGuide) RouteChat(stream rg.RouteGuide_RouteChatServer) error {
	for {
		note, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(note); err != nil {
			return err
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	count := flag.Int("features", 1000, "messages per ListFeatures stream")
	maxStreams := flag.Int("max-streams", 0, "concurrent streams allowed per connection (0: no limit)")
	delay := flag.Duration("delay", 0, "how long each SayHello takes")
	k := &knobs{}
	flag.Int64Var(&k.stallEvery, "stall-every", 0, "one SayHello in N (at random) stalls -stall longer (0: none)")
	stall := flag.Duration("stall", 300*time.Millisecond, "how long a stalled SayHello stalls")
	flag.Int64Var(&k.failEvery, "fail-every", 0, "one SayHello in N (at random) fails with UNAVAILABLE (0: none)")
	withHealth := flag.Bool("health", false, "serve grpc.health.v1, SERVING until told otherwise on stdin")
	maxAge := flag.Duration("max-age", 0, "close each connection after this long (0: never)")
	maxAgeGrace := flag.Duration("max-age-grace", 0, "how long calls may still run on a connection past -max-age")
	flag.Parse()
	k.stallNs = int64(*stall)
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	features := make([]*rg.Feature, *count)
	for i := range features {
		features[i] = &rg.Feature{
			Name:     fmt.Sprintf("feature %d", i),
			Location: &rg.Point{Latitude: int32(400000000 + i), Longitude: int32(-740000000 - i)},
		}
	}
	var options []grpc.ServerOption
	if *maxStreams > 0 {
		options = append(options, grpc.MaxConcurrentStreams(uint32(*maxStreams)))
	}
	if *maxAge > 0 {
		options = append(options, grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionAge:      *maxAge,
			MaxConnectionAgeGrace: *maxAgeGrace,
		}))
	}
	s := grpc.NewServer(options...)
	hw.RegisterGreeterServer(s, greeter{delay: *delay, knobs: k})
	var hs *health.Server
	if *withHealth {
		hs = health.NewServer()
		healthpb.RegisterHealthServer(s, hs)
	}
	rg.RegisterRouteGuideServer(s, &routeGuide{features: features})
	fmt.Printf("listening on %s\n", lis.Addr().String())
	// Takes knob changes from stdin; exits when its parent closes it.
	go control(k, hs)
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
