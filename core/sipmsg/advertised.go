package sipmsg

// advertisedKey is the per-message slot of the script's
// set_advertised_address / set_advertised_port (core/script).
var advertisedKey = NewKey()

// advertised is what the script set; zero values leave the socket's own.
type advertised struct {
	host string
	port int
}

func (m *Msg) advertised() advertised {
	a, _ := m.Get(advertisedKey).(advertised)
	return a
}

// SetAdvertisedAddress makes the requests forwarded for m name host in our
// Via (and in a Record-Route written for the outgoing socket) instead of
// the sending socket's address or advertised_address (SER's
// set_advertised_address).
func (m *Msg) SetAdvertisedAddress(host string) {
	a := m.advertised()
	a.host = host
	m.Set(advertisedKey, a)
}

// SetAdvertisedPort is SetAdvertisedAddress for the port
// (set_advertised_port).
func (m *Msg) SetAdvertisedPort(port int) {
	a := m.advertised()
	a.port = port
	m.Set(advertisedKey, a)
}

// AdvertisedSocket returns sock as the message advertises it when sent
// from it: sock itself, or a copy with the script's address and port.
func (m *Msg) AdvertisedSocket(sock *Socket) *Socket {
	a := m.advertised()
	if sock == nil || a.host == "" && a.port == 0 {
		return sock
	}
	c := *sock
	if a.host != "" {
		c.Name = a.host
	}
	if a.port != 0 {
		c.AdvPort = a.port
	}
	return &c
}
