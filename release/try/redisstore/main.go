// Command redisstore is a fleet receiver's start: a webhook handler whose
// deliveries are remembered in Redis. The release rehearsal builds and
// runs it in a fresh module that requires only
// github.com/mergelink/mergelink/redisstore, fetched from the rehearsal's
// proxy. With MERGELINK_TEST_REDIS (a redis:// URL) set, it also delivers
// one signed webhook twice through the handler and checks that the
// function ran once.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mergelink/mergelink"
	"github.com/mergelink/mergelink/redisstore"
)

func main() {
	url := os.Getenv("MERGELINK_TEST_REDIS")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	runs := 0
	h, err := mergelink.NewWebhookHandler(func(context.Context, *mergelink.WebhookEvent) error {
		runs++
		return nil
	}, []string{"rehearsal-key"}, mergelink.WithDuplicateStore(redisstore.New(rdb, redisstore.Options{Prefix: "rehearsal:"})))
	if err != nil {
		log.Fatal(err)
	}
	if os.Getenv("MERGELINK_TEST_REDIS") == "" {
		fmt.Println("ok: redisstore built a webhook handler (set MERGELINK_TEST_REDIS to deliver through Redis)")
		return
	}
	body := []byte(`{"hook":{"event":"LinkedAccount.linked"},"linked_account":{"id":"la-` + strconv.FormatInt(time.Now().UnixNano(), 10) + `"},"data":{"account_token":"tok"}}`)
	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		req.Header.Set(mergelink.SignatureHeader, mergelink.SignWebhook(body, "rehearsal-key"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			log.Fatalf("delivery answered %d: %s", rec.Code, rec.Body)
		}
	}
	if runs != 1 {
		log.Fatalf("the function ran %d times for one delivery sent twice", runs)
	}
	fmt.Println("ok: redisstore kept one delivery sent twice to one run, in Redis")
}
