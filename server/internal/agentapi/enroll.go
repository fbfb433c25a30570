package agentapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// enroll exchanges a one-time enrollment token for a host credential.
//
//	@Summary		Enrol an agent
//	@Description	Exchanges a one-time, expiring enrollment token for a per-host credential (shown once).
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Param			body	body		protocol.EnrollRequest	true	"token and host facts"
//	@Success		200		{object}	protocol.EnrollResponse
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error	"enrollment_token_invalid"
//	@Failure		413		{object}	protocol.Error
//	@Router			/agent/enroll [post]
func (a *API) enroll(c *gin.Context) {
	var req protocol.EnrollRequest
	if err := httpx.Decode(c, limitSmall, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.Token == "" || len(req.Token) > 256 {
		httpx.Fail(c, httpx.Validation("token: required"))
		return
	}
	if err := validHostFacts(req.Hostname, req.OS, req.Arch, req.AgentVersion, ""); err != nil {
		httpx.Fail(c, err)
		return
	}
	host, cred, err := a.store.Enroll(c.Request.Context(), req.Token, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	a.logger.Info("agent enrolled", "host", host.ID, "hostname", host.Hostname)
	c.JSON(http.StatusOK, protocol.EnrollResponse{HostID: host.ID, Credential: cred, ProtocolVersion: a.cfg.MaxProtocol})
}

func validHostFacts(hostname, os, arch, agentVersion, resticVersion string) error {
	if strings.TrimSpace(hostname) == "" || len(hostname) > 255 {
		return httpx.Validation("hostname: required, at most 255 characters")
	}
	for name, v := range map[string]string{"os": os, "arch": arch, "agent_version": agentVersion, "restic_version": resticVersion} {
		if len(v) > 100 {
			return httpx.Validation("%s: at most 100 characters", name)
		}
	}
	return nil
}

// hello records the agent's facts and negotiates the protocol version.
//
//	@Summary		Agent hello
//	@Description	Sent on start and on every reconnect. The server picks the highest protocol version both sides speak.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			body	body		protocol.HelloRequest	true	"agent facts"
//	@Success		200		{object}	protocol.HelloResponse
//	@Failure		400		{object}	protocol.Error	"validation_failed, protocol_too_new"
//	@Failure		401		{object}	protocol.Error
//	@Failure		426		{object}	protocol.Error	"protocol_too_old"
//	@Router			/agent/hello [post]
func (a *API) hello(c *gin.Context) {
	var req protocol.HelloRequest
	if err := httpx.Decode(c, limitSmall, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	minV := req.MinProtocolVersion
	if minV == 0 {
		minV = req.ProtocolVersion
	}
	switch {
	case req.ProtocolVersion < 1 || minV < 1 || minV > req.ProtocolVersion:
		httpx.Fail(c, httpx.Validation("protocol_version: must be >= 1 and >= min_protocol_version"))
		return
	case req.ProtocolVersion < a.cfg.MinProtocol:
		httpx.Fail(c, httpx.Errorf(http.StatusUpgradeRequired, protocol.CodeProtocolTooOld,
			"agent speaks protocol %d..%d; this server needs %d..%d: upgrade the agent", minV, req.ProtocolVersion, a.cfg.MinProtocol, a.cfg.MaxProtocol))
		return
	case minV > a.cfg.MaxProtocol:
		httpx.Fail(c, httpx.Errorf(http.StatusBadRequest, protocol.CodeProtocolTooNew,
			"agent speaks protocol %d..%d; this server only %d..%d: upgrade the server", minV, req.ProtocolVersion, a.cfg.MinProtocol, a.cfg.MaxProtocol))
		return
	}
	if err := validHostFacts(req.Hostname, req.OS, req.Arch, req.AgentVersion, req.ResticVersion); err != nil {
		httpx.Fail(c, err)
		return
	}
	chosen := min(req.ProtocolVersion, a.cfg.MaxProtocol)
	id := hostID(c)
	err := a.store.RecordHello(c.Request.Context(), id, store.HelloInfo{
		Hostname: req.Hostname, OS: req.OS, Arch: req.Arch, AgentVersion: req.AgentVersion,
		ResticVersion: req.ResticVersion, ProtocolVersion: chosen,
	})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	a.versions.set(id, req.AgentVersion)
	c.JSON(http.StatusOK, protocol.HelloResponse{
		HostID: id, ProtocolVersion: chosen, ServerVersion: a.cfg.ServerVersion,
		ServerTime: time.Now().UTC(), Pacing: a.pacing(a.cfg.PollHold),
	})
}
