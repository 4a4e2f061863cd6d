module github.com/mergelink/mergelink/release

go 1.25.0

require (
	github.com/mergelink/mergelink v0.1.0
	github.com/mergelink/mergelink/agentmcp v0.1.0
	github.com/mergelink/mergelink/redisstore v0.1.0
	github.com/redis/go-redis/v9 v9.18.0
	golang.org/x/mod v0.25.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/modelcontextprotocol/go-sdk v1.8.0 // indirect
	github.com/segmentio/asm v1.1.3 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/oauth2 v0.35.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace (
	github.com/mergelink/mergelink => ../
	github.com/mergelink/mergelink/agentmcp => ../agentmcp
	github.com/mergelink/mergelink/redisstore => ../redisstore
)
