package corecmd

// SetGetwd replaces os.Getwd for a test; the returned func restores it.
func SetGetwd(f func() (string, error)) (restore func()) {
	old := getwd
	getwd = f
	return func() { getwd = old }
}
