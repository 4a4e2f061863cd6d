package mergeerr

import "errors"

// ErrNoClient is the error of every call made on a nil or zero client (a
// *mergelink.Client not made by mergelink.NewClient, or an
// *agenthandler.Client not got from mergelink.Client.AgentHandler),
// wrapped with the call's name. Nothing is sent.
var ErrNoClient = errors.New("the client is nil or was not made by mergelink.NewClient: make one with mergelink.NewClient and call its methods")
