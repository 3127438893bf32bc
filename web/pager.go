package web

import (
	"net/http"
	"strconv"

	"ser/core/store"
)

// pager is the navigation of a paged list.
type pager struct {
	Page, Pages, Total int
	// Prev and Next are the links to the neighbouring pages ("" at the
	// ends); they keep the request's other query parameters.
	Prev, Next string
}

// paging reads ?page= and returns the store window of perPage rows; call
// done with the total to get the pager.
func paging(r *http.Request, perPage int) (store.Page, func(total int) pager) {
	return pagingClamped(r, perPage, -1)
}

// pagingClamped is paging for a list whose length is known (total ≥ 0):
// a page past the end shows the last page.
func pagingClamped(r *http.Request, perPage, total int) (store.Page, func(total int) pager) {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	n = min(n, 1_000_000)
	if total >= 0 {
		n = min(n, max(1, (total+perPage-1)/perPage))
	}
	return store.Page{Limit: perPage, Offset: (n - 1) * perPage}, func(total int) pager {
		p := pager{Page: n, Total: total, Pages: max(1, (total+perPage-1)/perPage)}
		link := func(page int) string {
			q := r.URL.Query()
			q.Set("page", strconv.Itoa(page))
			return r.URL.Path + "?" + q.Encode()
		}
		if n > 1 {
			p.Prev = link(min(n-1, p.Pages))
		}
		if n < p.Pages {
			p.Next = link(n + 1)
		}
		return p
	}
}
