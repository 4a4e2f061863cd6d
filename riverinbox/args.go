package riverinbox

// Args is the job of one Unified API delivery: its raw signed body, as
// verified, and its delivery key (mergelink.WebhookEvent.DeliveryKey),
// which alone makes the job unique.
type Args struct {
	// Body is the signed body, byte for byte.
	Body []byte `json:"body"`
	// DeliveryKey is the hex SHA-256 of Body.
	DeliveryKey string `json:"delivery_key" river:"unique"`
}

// Kind is River's name for the job: "mergelink_webhook".
func (Args) Kind() string { return "mergelink_webhook" }

// AgentArgs is the job of one Agent Handler delivery, with the fields of
// Args (DeliveryKey is agenthandler.WebhookEvent.DeliveryKey).
type AgentArgs struct {
	// Body is the signed body, byte for byte.
	Body []byte `json:"body"`
	// DeliveryKey is the hex SHA-256 of Body.
	DeliveryKey string `json:"delivery_key" river:"unique"`
}

// Kind is River's name for the job: "mergelink_agent_webhook".
func (AgentArgs) Kind() string { return "mergelink_agent_webhook" }
