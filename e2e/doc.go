// Package e2e holds the end-to-end test of mergetest's hosted pages in
// headless Chromium. It is a module of its own so that its browser driver,
// chromedp, never enters the module graph of the SDK's users.
//
// Run it with
//
//	cd e2e && go test -race -count=1 ./...
//
// It skips when no Chromium is found (CHROMIUM_PATH, /usr/bin/chromium,
// or chromium in PATH) unless E2E_REQUIRE_BROWSER=1, and writes its
// screenshots to E2E_SCREENSHOT_DIR when that is set.
package e2e
