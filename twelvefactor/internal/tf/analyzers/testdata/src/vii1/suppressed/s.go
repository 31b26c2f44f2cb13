package suppressed

import "net"

func Debug() (net.Listener, error) {
	//twelvefactor:ignore VII1 the debug listener binds loopback only and is never routed
	return net.Listen("tcp", "127.0.0.1:6060") // want `listens on the fixed address`
}
