package mergetest

import "net/http"

// MCPPath is the path, below AgentPath, of Agent Handler's MCP endpoint,
// the MCP server of a tool pack for one registered user.
const MCPPath = "/tool-packs/{tool_pack_id}/registered-users/{registered_user_id}/mcp/"

// HandleMCP makes the server answer requests to AgentPath+MCPPath (with or
// without the trailing slash) with h, behind the API key check: like every
// Agent Handler request they are recorded in Requests, FailNext applies to
// them, and a wrong key is answered 401 before h sees them. h reads the ids
// with r.PathValue("tool_pack_id") and r.PathValue("registered_user_id").
// Until HandleMCP is called, and after HandleMCP(nil), the path is answered
// 404.
//
// mergetest itself does not speak MCP: the agentmcp module's mcptest
// package serves a fake MCP server through this hook.
func (s *Server) HandleMCP(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mcp = h
}

// routeMCP adds the MCP endpoint to the API's mux.
func (s *Server) routeMCP(api *http.ServeMux) {
	serve := func(w http.ResponseWriter, r *http.Request) {
		h := locked(s, func() http.Handler { return s.mcp })
		if h == nil {
			status, data := encode(agentNotFound(r, nil))
			writeRaw(w, status, data)
			return
		}
		h.ServeHTTP(w, r)
	}
	api.HandleFunc(AgentPath+MCPPath, serve)
	api.HandleFunc(AgentPath+"/tool-packs/{tool_pack_id}/registered-users/{registered_user_id}/mcp", serve)
}
