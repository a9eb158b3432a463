package gateway_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wactor/wactor/gateway"
)

// routesDone is a RequestObserver that sends the route of each request
// answered.
type routesDone chan string

func (r routesDone) RequestDone(route string, _ int, _ time.Duration) {
	select {
	case r <- route:
	default:
	}
}

// TestFollowerThatStopsReading: a client that follows a topic and then
// reads nothing, while publications fill the connection, does not hold
// its handler (and the events it is writing) for as long as it keeps the
// connection open: a write that does not complete in time ends the
// stream.
func TestFollowerThatStopsReading(t *testing.T) {
	done := make(routesDone, 1024)
	g := gateway.New(theHost(t), gateway.Config{Observer: done, Logger: testLogger(t)})
	g.SetReady(true)
	gateway.SetFollowWriteTimeout(g, 500*time.Millisecond)
	srv := httptest.NewUnstartedServer(g)
	// Small socket buffers on both sides: a few publications fill them.
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		_ = c.(*net.TCPConn).SetWriteBuffer(4096)
		return ctx
	}
	srv.Start()
	t.Cleanup(srv.Close)
	topic := "gw.stalled." + id(t)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = conn.Write([]byte("GET /v1/topics/" + topic + "/events HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if strings.Contains(line, ": following ") {
			break
		}
	}
	// From here the client reads nothing.
	body := `{"pad":"` + strings.Repeat("x", 4<<10) + `"}`
	follow := "GET /v1/topics/{topic}/events"
	deadline := time.Now().Add(20 * time.Second)
	for published := 0; time.Now().Before(deadline); {
		select {
		case route := <-done:
			if route == follow {
				t.Logf("the stream ended after %d publications", published)
				return
			}
			continue
		default:
		}
		if published < 1000 {
			resp, err := http.Post(srv.URL+"/v1/topics/"+topic, "application/json", strings.NewReader(body))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			published++
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Fatal("the follower that reads nothing still holds its handler after 20 s")
}
