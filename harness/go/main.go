// A Go gRPC server for client benchmarks: fast enough that the Node client,
// not the server, is the bottleneck. Greeter.SayHello; RouteGuide.ListFeatures
// streams -features messages; RecordRoute counts what it receives; RouteChat
// echoes each note. -max-streams advertises a stream limit per connection
// (SETTINGS_MAX_CONCURRENT_STREAMS) and -delay makes each SayHello take that
// long, for the stream-limit benchmark. Built by harness/go-server.ts with
// Debian's Go and grpc-go.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	hw "bgbench/helloworld"
	rg "bgbench/routeguide"
)

type greeter struct {
	hw.UnimplementedGreeterServer
	delay time.Duration
}

func (g greeter) SayHello(_ context.Context, in *hw.HelloRequest) (*hw.HelloReply, error) {
	if g.delay > 0 {
		time.Sleep(g.delay)
	}
	return &hw.HelloReply{Message: "Hello " + in.GetName()}, nil
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
	flag.Parse()
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
	s := grpc.NewServer(options...)
	hw.RegisterGreeterServer(s, greeter{delay: *delay})
	rg.RegisterRouteGuideServer(s, &routeGuide{features: features})
	fmt.Printf("listening on %s\n", lis.Addr().String())
	// Exits when its parent closes stdin.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
