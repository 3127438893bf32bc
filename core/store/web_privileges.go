package store

import "context"

// AllPrivileges returns every admin_privileges row ordered by domain,
// username, privilege name and value (serweb's list of admins).
func (s *Store) AllPrivileges(ctx context.Context) ([]Privilege, error) {
	return s.privileges(ctx, "list privileges",
		"SELECT username, domain, priv_name, priv_value FROM admin_privileges ORDER BY domain, username, priv_name, priv_value")
}
