package usrloc_test

import (
	"fmt"
	"time"

	"ser/core/modules/usrloc"
)

// Registrar-style use of a table: apply a REGISTER atomically, then look
// the AOR up.
func ExampleDomain_Update() {
	ul := usrloc.New()
	ul.SetClock(func() time.Time { return time.Unix(1100000000, 0) })
	d := ul.Register("location")

	_ = d.Update("john", func(r *usrloc.Record) error {
		r.Put(usrloc.Contact{URI: "sip:john@10.0.0.1", Expires: r.Now() + 3600, Q: 500})
		r.Put(usrloc.Contact{URI: "sip:john@10.0.0.2", Expires: r.Now() + 60, Q: usrloc.QMax})
		return nil
	})
	contacts, _ := d.Get("john")
	for _, c := range contacts {
		fmt.Printf("<%s>;q=%s;expires=%d\n", c.URI, c.Q, c.ExpiresIn(ul.Now().Unix()))
	}
	for aor, cs := range d.Records(false) {
		fmt.Println(aor, len(cs))
	}
	// Output:
	// <sip:john@10.0.0.2>;q=1;expires=60
	// <sip:john@10.0.0.1>;q=0.5;expires=3600
	// john 2
}
