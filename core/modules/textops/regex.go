package textops

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// reFlags are the POSIX regcomp flags SER used, mapped onto RE2.
type reFlags struct {
	// icase is REG_ICASE.
	icase bool
	// newline is REG_NEWLINE: "." and non-matching lists ([^…]) do not
	// match a newline, "^" and "$" match at line boundaries.
	newline bool
}

// compileRE compiles a POSIX extended regular expression as SER's regcomp
// with the given flags did, with leftmost-longest matching. Go's RE2
// syntax is a superset of ERE except for back-references in the pattern,
// which are rejected (at load time).
func compileRE(pattern string, f reFlags) (*regexp.Regexp, error) {
	flags := syntax.PerlX | syntax.UnicodeGroups
	if f.icase {
		flags |= syntax.FoldCase
	}
	if !f.newline {
		flags |= syntax.ClassNL | syntax.DotNL | syntax.OneLine
	}
	tree, err := syntax.Parse(pattern, flags)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %w", pattern, err)
	}
	// The tree's String form spells out the flags ((?m), [^\n…]), so the
	// regexp package (Perl defaults) compiles the same automaton.
	re, err := regexp.Compile(tree.String())
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %w", pattern, err)
	}
	re.Longest()
	return re, nil
}

// scriptRE compiles an argument of search, search_append, replace and
// replace_all: REG_EXTENDED|REG_ICASE|REG_NEWLINE (textops.c fixup_regex).
func scriptRE(pattern string) (*regexp.Regexp, error) {
	return compileRE(pattern, reFlags{icase: true, newline: true})
}
