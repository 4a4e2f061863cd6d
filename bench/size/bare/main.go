// Command bare creates one link token with net/http and encoding/json
// alone, sending what the SDK sends (Authorization, Accept, Content-Type,
// User-Agent and an Idempotency-Key), and prints it. It reads the API key
// from MERGE_API_KEY. It is the baseline of ../sdk.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

type linkTokenRequest struct {
	EndUserEmailAddress     string   `json:"end_user_email_address"`
	EndUserOrganizationName string   `json:"end_user_organization_name"`
	EndUserOriginID         string   `json:"end_user_origin_id"`
	Categories              []string `json:"categories"`
	LinkExpiryMins          int      `json:"link_expiry_mins"`
}

type linkToken struct {
	LinkToken string `json:"link_token"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	body, err := json.Marshal(linkTokenRequest{
		EndUserEmailAddress:     "jane@example.com",
		EndUserOrganizationName: "Example Org",
		EndUserOriginID:         "user-42",
		Categories:              []string{"hris"},
		LinkExpiryMins:          30,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		"https://api.merge.dev/api/hris/v1/link-token", bytes.NewReader(body))
	if err != nil {
		return err
	}
	var key [16]byte
	rand.Read(key[:])
	key[6] = key[6]&0x0f | 0x40
	key[8] = key[8]&0x3f | 0x80
	req.Header.Set("Authorization", "Bearer "+os.Getenv("MERGE_API_KEY"))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bare/1.0")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%x-%x-%x-%x-%x", key[0:4], key[4:6], key[6:8], key[8:10], key[10:]))
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("link token: %s: %s", resp.Status, data)
	}
	var lt linkToken
	if err := json.Unmarshal(data, &lt); err != nil {
		return err
	}
	fmt.Println(lt.LinkToken)
	return nil
}
