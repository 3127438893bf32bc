package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
)

// URI schemes and transports of the gw table (SER lcr).
const (
	SchemeSIP  = 1
	SchemeSIPS = 2

	TransportUDP = 1
	TransportTCP = 2
	TransportTLS = 3
)

// Gateway is a row of gw, with its trunks from gw_cap.
type Gateway struct {
	Name    string
	GroupID int
	// IP is the gateway's IPv4 address.
	IP netip.Addr
	// Port, Scheme and Transport are 0 when NULL (5060, sip, none).
	Port, Scheme, Transport int
	// Prefix is put in front of the R-URI user (NULL = "").
	Prefix string
	// Trunks are the gateway's gw_cap rows, by priority then cap. Only
	// LoadLCR and AddGateway use this field.
	Trunks []Trunk
}

// Trunk is a row of Inode's gw_cap: a gateway trunk with capability bits
// (1 phone, 2 fax, …), its own prefix and a priority (lower first; the
// weight among equals).
type Trunk struct {
	Cap      int
	Prefix   string
	Priority int
}

// GatewayGroup is a row of gw_grp.
type GatewayGroup struct {
	ID   int
	Name string
}

// LCRRule is a row of lcr: requests whose R-URI user starts with Prefix
// and whose From URI matches the LIKE pattern FromURI go to the gateways
// of GroupID; lower Priority first.
type LCRRule struct {
	Prefix   string
	FromURI  string
	GroupID  int
	Priority int
}

// LCRData is the content of the LCR tables, loaded at once.
type LCRData struct {
	Gateways []Gateway
	Groups   []GatewayGroup
	Rules    []LCRRule
}

// GatewayMatch is one answer of MatchGateways: a gateway (without Trunks),
// the rule that selected it, and with capabilities the trunk.
type GatewayMatch struct {
	Gateway
	RulePrefix   string
	RulePriority int
	// Trunk is the matching gw_cap row; nil when MatchGateways was called
	// with caps 0.
	Trunk *Trunk
}

// ipToSER encodes an IPv4 address as SER's gw.ip_addr: the address bytes
// in network order read as a little-endian integer (x86 in_addr.s_addr).
func ipToSER(ip netip.Addr) (int64, error) {
	if !ip.Is4() {
		return 0, fmt.Errorf("store: gateway address %v is not IPv4: %w", ip, ErrInvalid)
	}
	b := ip.As4()
	return int64(b[0]) | int64(b[1])<<8 | int64(b[2])<<16 | int64(b[3])<<24, nil
}

// ipFromSER decodes SER's gw.ip_addr.
func ipFromSER(v int64) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
}

// nullInt is an int parameter stored as NULL when 0.
func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

const gwCols = "gw.gw_name, gw.grp_id, gw.ip_addr, gw.port, gw.uri_scheme, gw.transport, gw.prefix"

// scanGateway returns the destinations for gwCols and a function that
// finishes g after Scan.
func scanGateway(g *Gateway) ([]any, func()) {
	var (
		ip                      int64
		port, scheme, transport sql.NullInt64
		prefix                  sql.NullString
	)
	return []any{&g.Name, &g.GroupID, &ip, &port, &scheme, &transport, &prefix}, func() {
		g.IP = ipFromSER(ip)
		g.Port, g.Scheme, g.Transport = int(port.Int64), int(scheme.Int64), int(transport.Int64)
		g.Prefix = prefix.String
	}
}

// AddGateway inserts g and its Trunks in one transaction. An existing
// gateway name gives ErrExists.
func (s *Store) AddGateway(ctx context.Context, g Gateway) error {
	if err := checkKey("gateway name", g.Name); err != nil {
		return err
	}
	if err := checkLen("gw_name", g.Name, 128); err != nil {
		return err
	}
	if err := checkLen("prefix", g.Prefix, 16); err != nil {
		return err
	}
	ip, err := ipToSER(g.IP)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO gw (gw_name, grp_id, ip_addr, port, uri_scheme, transport, prefix) VALUES (?, ?, ?, ?, ?, ?, ?)",
			g.Name, g.GroupID, ip, nullInt(g.Port), nullInt(g.Scheme), nullInt(g.Transport), nullString(g.Prefix))
		if err != nil {
			return err
		}
		for _, t := range g.Trunks {
			if err := checkLen("trunk prefix", t.Prefix, 16); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO gw_cap (gw_name, cap, prefix, priority) VALUES (?, ?, ?, ?)",
				g.Name, t.Cap, t.Prefix, t.Priority); err != nil {
				return err
			}
		}
		return nil
	})
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: add gateway %s: %w", g.Name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add gateway %s: %w", g.Name, err)
	}
	return nil
}

// DeleteGateway removes a gateway and its trunks in one transaction, or
// gives ErrNotFound.
func (s *Store) DeleteGateway(ctx context.Context, name string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM gw_cap WHERE gw_name = ?", name); err != nil {
			return err
		}
		if err := found(tx.ExecContext(ctx, "DELETE FROM gw WHERE gw_name = ?", name)); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete gateway %s: %w", name, err)
	}
	return nil
}

// SetTrunk inserts or replaces the trunk (gwName, t.Cap). An unknown
// gateway gives ErrNotFound.
func (s *Store) SetTrunk(ctx context.Context, gwName string, t Trunk) error {
	if err := checkLen("trunk prefix", t.Prefix, 16); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM gw WHERE gw_name = ?", gwName).Scan(&one); err != nil {
			if err == sql.ErrNoRows {
				err = ErrNotFound
			}
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.Upsert("gw_cap", []string{"gw_name", "cap", "prefix", "priority"},
			[]string{"gw_name", "cap"}, []string{"prefix", "priority"}), gwName, t.Cap, t.Prefix, t.Priority)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set trunk %d of %s: %w", t.Cap, gwName, err)
	}
	return nil
}

// DeleteTrunk removes the trunk (gwName, capability), or gives
// ErrNotFound.
func (s *Store) DeleteTrunk(ctx context.Context, gwName string, capability int) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM gw_cap WHERE gw_name = ? AND cap = ?", gwName, capability)
	if err != nil {
		return fmt.Errorf("store: delete trunk %d of %s: %w", capability, gwName, err)
	}
	return affected(res, fmt.Sprintf("delete trunk %d of %s", capability, gwName))
}

// AddGatewayGroup inserts a gw_grp row and returns its new grp_id.
func (s *Store) AddGatewayGroup(ctx context.Context, name string) (int, error) {
	if err := checkLen("grp_name", name, 64); err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "INSERT INTO gw_grp (grp_name) VALUES (?)", name)
	if err != nil {
		return 0, fmt.Errorf("store: add gateway group %s: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: add gateway group %s: %w", name, err)
	}
	return int(id), nil
}

// DeleteGatewayGroup removes gw_grp row id, or gives ErrNotFound. Its
// gateways and rules stay (SER keeps no foreign key there either).
func (s *Store) DeleteGatewayGroup(ctx context.Context, id int) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM gw_grp WHERE grp_id = ?", id)
	if err != nil {
		return fmt.Errorf("store: delete gateway group %d: %w", id, err)
	}
	return affected(res, fmt.Sprintf("delete gateway group %d", id))
}

// AddLCRRule inserts an lcr row; an empty FromURI is "%" (any).
func (s *Store) AddLCRRule(ctx context.Context, r LCRRule) error {
	if r.FromURI == "" {
		r.FromURI = "%"
	}
	if err := checkLen("prefix", r.Prefix, 16); err != nil {
		return err
	}
	if err := checkLen("from_uri", r.FromURI, 128); err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO lcr (prefix, from_uri, grp_id, priority) VALUES (?, ?, ?, ?)",
		r.Prefix, r.FromURI, r.GroupID, r.Priority); err != nil {
		return fmt.Errorf("store: add lcr rule %q: %w", r.Prefix, err)
	}
	return nil
}

// DeleteLCRRule removes the lcr rows equal to r (lcr has no key), or gives
// ErrNotFound.
func (s *Store) DeleteLCRRule(ctx context.Context, r LCRRule) error {
	if r.FromURI == "" {
		r.FromURI = "%"
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM lcr WHERE prefix = ? AND from_uri = ? AND grp_id = ? AND priority = ?",
		r.Prefix, r.FromURI, r.GroupID, r.Priority)
	if err != nil {
		return fmt.Errorf("store: delete lcr rule %q: %w", r.Prefix, err)
	}
	return affected(res, fmt.Sprintf("delete lcr rule %q", r.Prefix))
}

// LoadLCR reads gw, gw_cap, gw_grp and lcr in one read transaction (a
// consistent snapshot; four queries, no per-gateway query) for the lcr
// module's start-up and lcr_reload. Gateways are ordered by name, their
// trunks by priority and cap, groups by id, rules by prefix length
// (longest first), priority, prefix and from_uri.
func (s *Store) LoadLCR(ctx context.Context) (LCRData, error) {
	var data LCRData
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return data, fmt.Errorf("store: load lcr: %w", err)
	}
	defer tx.Rollback()
	if err := s.loadLCR(ctx, tx, &data); err != nil {
		return LCRData{}, fmt.Errorf("store: load lcr: %w", err)
	}
	return data, nil
}

// loadLCR runs LoadLCR's queries.
func (s *Store) loadLCR(ctx context.Context, tx *sql.Tx, data *LCRData) error {
	index := map[string]int{}
	err := eachRow(ctx, tx, "SELECT "+gwCols+" FROM gw ORDER BY gw.gw_name", func(rows *sql.Rows) error {
		var g Gateway
		dest, finish := scanGateway(&g)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		finish()
		index[g.Name] = len(data.Gateways)
		data.Gateways = append(data.Gateways, g)
		return nil
	})
	if err != nil {
		return err
	}
	err = eachRow(ctx, tx, "SELECT gw_name, cap, prefix, priority FROM gw_cap ORDER BY gw_name, priority, cap", func(rows *sql.Rows) error {
		var (
			name string
			t    Trunk
		)
		if err := rows.Scan(&name, &t.Cap, &t.Prefix, &t.Priority); err != nil {
			return err
		}
		if i, ok := index[name]; ok {
			data.Gateways[i].Trunks = append(data.Gateways[i].Trunks, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = eachRow(ctx, tx, "SELECT grp_id, grp_name FROM gw_grp ORDER BY grp_id", func(rows *sql.Rows) error {
		var g GatewayGroup
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return err
		}
		data.Groups = append(data.Groups, g)
		return nil
	})
	if err != nil {
		return err
	}
	return eachRow(ctx, tx, "SELECT prefix, from_uri, grp_id, priority FROM lcr ORDER BY "+s.d.Length("prefix")+
		" DESC, priority, prefix, from_uri", func(rows *sql.Rows) error {
		var r LCRRule
		if err := rows.Scan(&r.Prefix, &r.FromURI, &r.GroupID, &r.Priority); err != nil {
			return err
		}
		data.Rules = append(data.Rules, r)
		return nil
	})
}

// eachRow runs query in tx and calls fn for each row.
func eachRow(ctx context.Context, tx *sql.Tx, query string, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// MatchGateways is SER's load_gws query done by the database: the
// gateways of every lcr rule whose prefix starts ruriUser and whose
// from_uri pattern matches fromURI (SQL LIKE, case-insensitive in both
// engines as in SER's MySQL tables). With caps != 0 only
// gateways with a trunk sharing a bit with caps are returned, one match
// per such trunk (Inode's capability extension). Matches are ordered by
// rule prefix length (longest first), rule priority, trunk priority and
// gateway name; randomising among equals is left to the caller.
func (s *Store) MatchGateways(ctx context.Context, ruriUser, fromURI string, caps int) ([]GatewayMatch, error) {
	query := "SELECT " + gwCols + ", lcr.prefix, lcr.priority"
	from := " FROM lcr JOIN gw ON gw.grp_id = lcr.grp_id"
	where := " WHERE ? LIKE " + s.d.Concat("lcr.prefix", "'%'") + " AND LOWER(?) LIKE LOWER(lcr.from_uri)"
	order := " ORDER BY " + s.d.Length("lcr.prefix") + " DESC, lcr.priority"
	args := []any{ruriUser, fromURI}
	if caps != 0 {
		query += ", gw_cap.cap, gw_cap.prefix, gw_cap.priority"
		from += " JOIN gw_cap ON gw_cap.gw_name = gw.gw_name"
		where += " AND (gw_cap.cap & ?) <> 0"
		order += ", gw_cap.priority"
		args = append(args, caps)
	}
	order += ", gw.gw_name"
	st, err := s.prepared(ctx, s.r, query+from+where+order)
	if err != nil {
		return nil, fmt.Errorf("store: match gateways: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: match gateways: %w", err)
	}
	defer rows.Close()
	var out []GatewayMatch
	for rows.Next() {
		var m GatewayMatch
		dest, finish := scanGateway(&m.Gateway)
		dest = append(dest, &m.RulePrefix, &m.RulePriority)
		var t Trunk
		if caps != 0 {
			dest = append(dest, &t.Cap, &t.Prefix, &t.Priority)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: match gateways: %w", err)
		}
		finish()
		if caps != 0 {
			m.Trunk = &t
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: match gateways: %w", err)
	}
	return out, nil
}
