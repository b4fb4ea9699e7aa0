package keyauthority

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sigv4/sigv4"
	"github.com/sigv4/sigv4/credstore"
)

// PathAdminKeys is where an admin grant manages the authority's keys.
const PathAdminKeys = "/v1/admin/keys"

type adminRequest struct {
	Op          string                  `json:"op"` // create, list, get, disable, enable, delete, rotate, session
	Name        string                  `json:"name,omitempty"`
	AccessKeyID string                  `json:"access_key_id,omitempty"`
	Options     credstore.CreateOptions `json:"options"`
	TTL         time.Duration           `json:"ttl,omitempty"`
}

type adminAnswer struct {
	Key         *credstore.Key     `json:"key,omitempty"`
	Keys        []credstore.Key    `json:"keys,omitempty"`
	Credentials *sigv4.Credentials `json:"credentials,omitempty"`
	Error       *errorJSON         `json:"error,omitempty"`
}

const codeNotFound = "NotFound"

// admin runs an admin grant's key operation on the Server's Store.
func (s *Server) admin(w http.ResponseWriter, r *http.Request, g Grant) {
	if !g.Admin || s.Store == nil {
		s.audit().Warn("refused", "client", g.Name, "op", "admin", "why", "not an admin grant, or no store")
		writeError(w, http.StatusForbidden, codeNotGranted, g.Name+" may not manage keys here")
		return
	}
	var req adminRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "want an admin request")
		return
	}
	ctx, st := r.Context(), s.Store
	var ans adminAnswer
	var err error
	key := func(k credstore.Key, c sigv4.Credentials, e error) {
		if k.AccessKeyID != "" {
			ans.Key = &k
		}
		if c.AccessKeyID != "" {
			ans.Credentials = &c
		}
		err = e
	}
	switch req.Op {
	case "create":
		key(st.Create(ctx, req.Name, req.Options))
	case "list":
		ans.Keys, err = st.List(ctx)
	case "get":
		var k credstore.Key
		k, err = st.Get(ctx, req.AccessKeyID)
		ans.Key = &k
	case "disable":
		err = st.Disable(ctx, req.AccessKeyID)
	case "enable":
		err = st.Enable(ctx, req.AccessKeyID)
	case "delete":
		err = st.Delete(ctx, req.AccessKeyID)
	case "rotate":
		key(st.Rotate(ctx, req.AccessKeyID))
	case "session":
		key(st.Session(ctx, req.AccessKeyID, req.TTL))
	default:
		writeError(w, http.StatusBadRequest, codeBadRequest, "unknown op "+req.Op)
		return
	}
	if err == nil && s.Revocations != nil {
		switch req.Op {
		case "disable", "delete", "rotate", "enable":
			// The verifiers drop what they cached of the key at once.
			if _, ierr := s.Revocations.Add(Revocation{AccessKeyID: req.AccessKeyID, Invalidate: true, Reason: req.Op}); ierr != nil {
				err = ierr
			}
		}
	}
	log := s.audit().With("client", g.Name, "op", "admin-"+req.Op, "access_key_id", req.AccessKeyID, "name", req.Name)
	if ans.Key != nil {
		log = log.With("key", ans.Key.AccessKeyID)
	}
	status := http.StatusOK
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		ans.Error, status = &errorJSON{Code: codeNotFound, Message: err.Error()}, http.StatusNotFound
	case err != nil:
		ans.Error, status = &errorJSON{Code: codeBadRequest, Message: err.Error()}, http.StatusBadRequest
	}
	log.Info("admin", "status", status)
	writeJSON(w, status, ans)
}

// Admin manages the keys of an authority's store through the authority,
// with an admin grant's certificate: the methods of credstore.Store that
// "sigv4 keys" uses.
type Admin struct{ c *Client }

// NewAdmin returns an Admin of the authority at url.
func NewAdmin(c *Client) *Admin { return &Admin{c: c} }

func (a *Admin) do(ctx context.Context, req adminRequest) (adminAnswer, error) {
	data, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, a.c.url+PathAdminKeys, bytes.NewReader(data))
	if err != nil {
		return adminAnswer{}, err
	}
	resp, err := a.c.http.Do(hreq)
	if err != nil {
		return adminAnswer{}, err
	}
	defer resp.Body.Close()
	var ans adminAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&ans); err != nil {
		return adminAnswer{}, fmt.Errorf("keyauthority: %s", resp.Status)
	}
	switch {
	case ans.Error != nil && ans.Error.Code == codeNotFound:
		return ans, fmt.Errorf("%s: %w", ans.Error.Message, credstore.ErrNotFound)
	case ans.Error != nil:
		return ans, fmt.Errorf("keyauthority: %s: %s", ans.Error.Code, ans.Error.Message)
	}
	return ans, nil
}

func (a *Admin) newKey(ctx context.Context, req adminRequest) (credstore.Key, sigv4.Credentials, error) {
	ans, err := a.do(ctx, req)
	var k credstore.Key
	var c sigv4.Credentials
	if ans.Key != nil {
		k = *ans.Key
	}
	if ans.Credentials != nil {
		c = *ans.Credentials
	}
	return k, c, err
}

// Create is credstore.Store.Create, at the authority.
func (a *Admin) Create(ctx context.Context, name string, opts credstore.CreateOptions) (credstore.Key, sigv4.Credentials, error) {
	return a.newKey(ctx, adminRequest{Op: "create", Name: name, Options: opts})
}

// Rotate is credstore.Store.Rotate, at the authority.
func (a *Admin) Rotate(ctx context.Context, accessKeyID string) (credstore.Key, sigv4.Credentials, error) {
	return a.newKey(ctx, adminRequest{Op: "rotate", AccessKeyID: accessKeyID})
}

// Session is credstore.Store.Session, at the authority.
func (a *Admin) Session(ctx context.Context, accessKeyID string, ttl time.Duration) (credstore.Key, sigv4.Credentials, error) {
	return a.newKey(ctx, adminRequest{Op: "session", AccessKeyID: accessKeyID, TTL: ttl})
}

// List is credstore.Store.List, at the authority.
func (a *Admin) List(ctx context.Context) ([]credstore.Key, error) {
	ans, err := a.do(ctx, adminRequest{Op: "list"})
	return ans.Keys, err
}

// Get is credstore.Store.Get, at the authority.
func (a *Admin) Get(ctx context.Context, accessKeyID string) (credstore.Key, error) {
	ans, err := a.do(ctx, adminRequest{Op: "get", AccessKeyID: accessKeyID})
	if ans.Key == nil {
		return credstore.Key{}, err
	}
	return *ans.Key, err
}

// Disable is credstore.Store.Disable, at the authority.
func (a *Admin) Disable(ctx context.Context, accessKeyID string) error {
	_, err := a.do(ctx, adminRequest{Op: "disable", AccessKeyID: accessKeyID})
	return err
}

// Enable is credstore.Store.Enable, at the authority.
func (a *Admin) Enable(ctx context.Context, accessKeyID string) error {
	_, err := a.do(ctx, adminRequest{Op: "enable", AccessKeyID: accessKeyID})
	return err
}

// Delete is credstore.Store.Delete, at the authority.
func (a *Admin) Delete(ctx context.Context, accessKeyID string) error {
	_, err := a.do(ctx, adminRequest{Op: "delete", AccessKeyID: accessKeyID})
	return err
}

// Close does nothing: the Admin holds no store.
func (a *Admin) Close() error { return nil }
