#!/usr/bin/env bash
# Regenerates signatures.json: the HMAC-SHA256 of each body file under each
# key, computed by OpenSSL (not by the code under test) and written in every
# form agenthandler.VerifyWebhookSignature accepts. Run from this folder:
#   ./gen.sh > signatures.json
set -euo pipefail
keys=(
  "ah_verification_key_01"
  # longer than SHA-256's 64-byte block, so that HMAC hashes it first
  "ah_verification_key_long_0123456789abcdefghijklmnopqrstuvwxyz_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
mac() { openssl dgst -sha256 -hmac "$2" -binary <"$1"; }
for body in credential_created.json registered_user_created.json hello.txt; do
  for key in "${keys[@]}"; do
    hex=$(mac "$body" "$key" | basenc --base16 | tr 'A-F' 'a-f')
    std=$(mac "$body" "$key" | basenc --base64)
    url=$(mac "$body" "$key" | basenc --base64url)
    jq -n --arg body "$body" --arg key "$key" --arg hex "$hex" --arg std "$std" --arg url "$url" '{
      body: $body, key: $key,
      signatures: {
        "hex": $hex,
        "hex, upper case": ($hex | ascii_upcase),
        "sha256= hex": ("sha256=" + $hex),
        "base64, padded": $std,
        "base64, unpadded": ($std | rtrimstr("=")),
        "sha256= base64, padded": ("sha256=" + $std),
        "base64url, padded": $url,
        "base64url, unpadded": ($url | rtrimstr("=")),
        "sha256= base64url, unpadded": ("sha256=" + ($url | rtrimstr("=")))
      }}'
  done
done | jq -s .
