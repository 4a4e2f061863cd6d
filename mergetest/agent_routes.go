package mergetest

// agentRoutes adds the Agent Handler operations beyond registered users,
// link tokens, connectors and credentials, through agent, which serves a
// path with and without its trailing slash.
func (s *Server) agentRoutes(agent func(method, path string, h handler)) {
	agent("POST", "/allowed-callback-origins", s.registerOrigin)

	agent("POST", "/tool-packs", s.createToolPack)
	agent("GET", "/tool-packs", s.listToolPacks)
	agent("GET", "/tool-packs/{id}", s.getToolPack)
	agent("PATCH", "/tool-packs/{id}", s.patchToolPack)
	agent("DELETE", "/tool-packs/{id}", s.deleteToolPack)
	agent("GET", "/tool-packs/{tool_pack_id}/connectors", s.listPackConnectors)
	agent("PUT", "/tool-packs/{tool_pack_id}/connectors", s.changePackConnectors)
	agent("PATCH", "/tool-packs/{tool_pack_id}/connectors", s.changePackConnectors)
	agent("DELETE", "/tool-packs/{tool_pack_id}/connectors/{slug}", s.removePackConnector)
	agent("POST", "/tool-packs/{tool_pack_id}/registered-users/{id}/search", s.searchTools)

	agent("POST", "/application-credentials", s.createAppCredential)
	agent("GET", "/application-credentials", s.listAppCredentials)
	agent("GET", "/application-credentials/{id}", found(s.appCredentialOf))
	agent("PATCH", "/application-credentials/{id}", s.patchAppCredential)
	agent("DELETE", "/application-credentials/{id}", s.deleteAppCredential)

	agent("POST", "/access-keys", s.createAccessKey)
	agent("GET", "/access-keys", s.listAccessKeys)
	agent("GET", "/access-keys/{id}", found(s.accessKeyOf))
	agent("POST", "/access-keys/{id}/regenerate", s.regenerateAccessKey)
	agent("POST", "/access-keys/{id}/revoke", s.revokeAccessKey)

	agent("GET", "/audit-log", s.listAuditLog)

	agent("GET", "/security/standard-entity-rules", s.listEntityRules)
	agent("GET", "/security/standard-entity-rules/{entity_type}", found(s.entityRuleOf))
	agent("PUT", "/security/standard-entity-rules/{entity_type}", s.putEntityRule)
	agent("GET", "/tool-packs/{tool_pack_id}/standard-entity-rules", s.listPackEntityRules)
	agent("GET", "/tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}", s.getPackEntityRule)
	agent("PUT", "/tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}", s.putPackEntityRule)
	agent("DELETE", "/tool-packs/{tool_pack_id}/standard-entity-rules/{entity_type}", s.deletePackEntityRule)

	agent("POST", "/security/custom-regex-rules", s.createRegexRule)
	agent("GET", "/security/custom-regex-rules", s.listRegexRules)
	agent("GET", "/security/custom-regex-rules/{rule_id}", found(s.regexRuleOf))
	agent("PATCH", "/security/custom-regex-rules/{rule_id}", s.patchRegexRule)
	agent("DELETE", "/security/custom-regex-rules/{rule_id}", s.deleteRegexRule)
	agent("GET", "/tool-packs/{tool_pack_id}/custom-regex-rules", s.listPackRegexRules)
	agent("POST", "/tool-packs/{tool_pack_id}/custom-regex-rules", s.createPackRegexRule)
	agent("GET", "/tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}", s.getPackRegexRule)
	agent("PATCH", "/tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}", s.patchPackRegexRule)
	agent("DELETE", "/tool-packs/{tool_pack_id}/custom-regex-rules/{rule_id}", s.deletePackRegexRule)

	agent("GET", "/connectors/tool-description-overrides", s.listOverrides)
	agent("PATCH", "/connectors/tool-description-overrides", s.patchOverrides)
	agent("GET", "/tool-packs/{tool_pack_id}/tool-description-overrides", s.listPackOverrides)
	agent("PATCH", "/tool-packs/{tool_pack_id}/tool-description-overrides", s.patchPackOverrides)
}
