package cli

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLoopbackPort(t *testing.T) {
	for addr, port := range map[string]string{"127.0.0.1:8081": "8081", "[::1]:0": "0", "localhost:8081": "8081", "127.0.0.2:9": "9"} {
		got, err := LoopbackPort(addr)
		assert.NoError(t, err, addr)
		assert.Equal(t, port, got, addr)
	}
	for _, addr := range []string{":8081", "0.0.0.0:8081", "[::]:8081", "192.168.1.2:8081", "example.com:8081", "127.0.0.1", ""} {
		_, err := LoopbackPort(addr)
		assert.Error(t, err, addr)
		var u usageError
		assert.True(t, errors.As(err, &u), "%q: want a usage error", addr)
	}
}
