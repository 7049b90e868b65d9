// gRPC's interop test server (grpc.testing.TestService) on Debian's grpc-go
// 1.33, which ships none: grpc-go's interop/test_utils.go server (v1.33.2)
// adapted to the protos in test/interop/proto (grpc-proto's, with
// UnimplementedCall on TestService, left unimplemented, and
// UnimplementedService not registered). It echoes x-grpc-test-echo-initial
// into the response headers and x-grpc-test-echo-trailing-bin into the
// trailers, returns response_status, honours response sizes and interval_us.
//
// -compress gzip compresses every response (grpc.RPCCompressor): grpc-go 1.33
// cannot choose per call or per message, so response_compressed (and
// ResponseParameters.compressed) are checked against the flag instead, and a
// request asking for what this server does not do fails with INVALID_ARGUMENT
// rather than being served otherwise. expect_compressed (the client's request
// compression) cannot be checked here (grpc-go hides grpc-encoding from
// handlers) and also fails, so a client compression case can never pass
// unchecked.
//
// Prints "listening on ADDRESS" and exits when stdin closes, as
// harness/go/main.go does. Built by harness/go-server.ts.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	testpb "bginterop/grpc/testing"
)

const (
	initialMetadataKey  = "x-grpc-test-echo-initial"
	trailingMetadataKey = "x-grpc-test-echo-trailing-bin"
)

type testServer struct {
	testpb.UnimplementedTestServiceServer
	compresses bool
}

// checkCompression refuses what this server cannot do as asked.
func (s *testServer) checkCompression(responseCompressed, expectCompressed *testpb.BoolValue) error {
	if expectCompressed.GetValue() {
		return status.Error(codes.InvalidArgument, "expect_compressed cannot be checked by this server (grpc-go 1.33)")
	}
	if responseCompressed != nil && responseCompressed.GetValue() != s.compresses {
		return status.Errorf(codes.InvalidArgument, "response_compressed=%v, but this server compresses %s (-compress)",
			responseCompressed.GetValue(), map[bool]string{true: "every response", false: "none"}[s.compresses])
	}
	return nil
}

func (s *testServer) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return new(testpb.Empty), nil
}

func serverNewPayload(t testpb.PayloadType, size int32) (*testpb.Payload, error) {
	if size < 0 {
		return nil, fmt.Errorf("requested a response with invalid length %d", size)
	}
	if t != testpb.PayloadType_COMPRESSABLE {
		return nil, fmt.Errorf("unsupported payload type: %d", t)
	}
	return &testpb.Payload{Type: t, Body: make([]byte, size)}, nil
}

// echoMetadata sends the echo keys back: the initial one as a header, the
// trailing one as a trailer.
func echoMetadata(ctx context.Context, sendHeader func(metadata.MD) error, setTrailer func(metadata.MD)) error {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil
	}
	if values, ok := md[initialMetadataKey]; ok {
		if err := sendHeader(metadata.Pairs(initialMetadataKey, values[0])); err != nil {
			return err
		}
	}
	if values, ok := md[trailingMetadataKey]; ok {
		setTrailer(metadata.Pairs(trailingMetadataKey, values[0]))
	}
	return nil
}

func (s *testServer) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	err := echoMetadata(ctx,
		func(md metadata.MD) error { return grpc.SendHeader(ctx, md) },
		func(md metadata.MD) { grpc.SetTrailer(ctx, md) })
	if err != nil {
		return nil, err
	}
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return nil, status.Error(codes.Code(st.Code), st.Message)
	}
	if err := s.checkCompression(in.GetResponseCompressed(), in.GetExpectCompressed()); err != nil {
		return nil, err
	}
	pl, err := serverNewPayload(in.GetResponseType(), in.GetResponseSize())
	if err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{Payload: pl}, nil
}

// sendResponses answers one StreamingOutputCallRequest: a message per
// ResponseParameters, each after its interval_us.
func (s *testServer) sendResponses(in *testpb.StreamingOutputCallRequest, send func(*testpb.StreamingOutputCallResponse) error) error {
	if st := in.GetResponseStatus(); st != nil && st.Code != 0 {
		return status.Error(codes.Code(st.Code), st.Message)
	}
	for _, c := range in.GetResponseParameters() {
		if err := s.checkCompression(c.GetCompressed(), nil); err != nil {
			return err
		}
		if us := c.GetIntervalUs(); us > 0 {
			time.Sleep(time.Duration(us) * time.Microsecond)
		}
		pl, err := serverNewPayload(in.GetResponseType(), c.GetSize())
		if err != nil {
			return err
		}
		if err := send(&testpb.StreamingOutputCallResponse{Payload: pl}); err != nil {
			return err
		}
	}
	return nil
}

func (s *testServer) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, stream testpb.TestService_StreamingOutputCallServer) error {
	return s.sendResponses(in, stream.Send)
}

func (s *testServer) StreamingInputCall(stream testpb.TestService_StreamingInputCallServer) error {
	var sum int
	for {
		in, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(sum)})
		}
		if err != nil {
			return err
		}
		if err := s.checkCompression(nil, in.GetExpectCompressed()); err != nil {
			return err
		}
		sum += len(in.GetPayload().GetBody())
	}
}

func (s *testServer) FullDuplexCall(stream testpb.TestService_FullDuplexCallServer) error {
	if err := echoMetadata(stream.Context(), stream.SendHeader, stream.SetTrailer); err != nil {
		return err
	}
	for {
		in, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.sendResponses(in, stream.Send); err != nil {
			return err
		}
	}
}

func (s *testServer) HalfDuplexCall(stream testpb.TestService_HalfDuplexCallServer) error {
	var requests []*testpb.StreamingOutputCallRequest
	for {
		in, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		requests = append(requests, in)
	}
	for _, in := range requests {
		if err := s.sendResponses(in, stream.Send); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	compress := flag.String("compress", "", `"gzip": compress every response`)
	flag.Parse()
	var opts []grpc.ServerOption
	switch *compress {
	case "":
	case "gzip":
		opts = append(opts, grpc.RPCCompressor(grpc.NewGZIPCompressor()))
	default:
		fmt.Fprintf(os.Stderr, "-compress: expected gzip, got %q\n", *compress)
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server := grpc.NewServer(opts...)
	testpb.RegisterTestServiceServer(server, &testServer{compresses: *compress != ""})
	fmt.Println("listening on", lis.Addr())
	go func() {
		// Exits when stdin closes: the test that started it is done.
		_, _ = io.Copy(ioutil.Discard, os.Stdin)
		server.Stop()
	}()
	_ = server.Serve(lis)
}
