// The rest of Agent Handler, which no official client covers: tool packs
// and their connectors, tool search, application credentials, access keys,
// the audit log, security rules, tool description overrides and allowed
// callback origins, spoken with raw HTTP requests. Every 2xx body is
// checked against the response schema Merge's OpenAPI gives its operation
// (field names, JSON types, enums, required fields, date-times), from
// agenthandler-openapi.json, which conformance/openapi/extract.py writes
// from the OpenAPI document. The callback-origins endpoint is absent from
// the OpenAPI: its body is checked against the shape Merge documents,
// {id, origin, created_at, modified_at}.
//
// conformance.test.mjs calls register with a function that returns what
// the server printed ({agent, api_key, ...}) once it runs.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const fields = JSON.parse(readFileSync(new URL("./agenthandler-openapi.json", import.meta.url), "utf8"));

// operation returns the operation of the OpenAPI that serves method on
// path (under the Agent Handler base URL, query included or not), the one
// with the fewest parameters when several match, as a router picks
// /connectors/tool-description-overrides/ over /connectors/{slug}/.
export function operation(method, path) {
  const got = (path.split("?")[0].replace(/\/$/, "") + "/").split("/");
  let best = null;
  let bestParams = 0;
  for (const op of fields.operations) {
    const want = op.path.split("/");
    if (op.method !== method || want.length !== got.length || op.status < 200 || op.status > 299) continue;
    let params = 0;
    for (let i = 0; i < want.length && params >= 0; i++) {
      if (want[i].startsWith("{")) params++;
      else if (want[i] !== got[i]) params = -1;
    }
    if (params >= 0 && (best === null || params < bestParams)) [best, bestParams] = [op, params];
  }
  return best;
}

// kind names the JSON type of a parsed value as the OpenAPI does.
function kind(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v; // boolean, string, object
}

const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// check returns what is wrong with v as a value of t; at is where v is.
export function check(at, t, v) {
  if (t.ref) {
    const s = fields.schemas[t.ref];
    return s ? check(at, s, v) : [`${at}: the field lists have no schema ${t.ref}`];
  }
  if (t.any_of) {
    const all = [];
    for (const alt of t.any_of) {
      const p = check(at, alt, v);
      if (p.length === 0) return [];
      all.push(...p);
    }
    return [`${at}: matches none of its alternatives: ${all.join("; ")}`];
  }
  if (t.all_of) return t.all_of.flatMap((part) => check(at, part, v));
  if (t.types.includes("any")) return [];
  const k = kind(v);
  if (!t.types.includes(k) && !(k === "integer" && t.types.includes("number"))) {
    return [`${at}: a JSON ${k}, where the OpenAPI has ${t.types.join(" or ")}`];
  }
  const problems = [];
  if (t.enum && v !== null && !t.enum.includes(v)) problems.push(`${at}: ${JSON.stringify(v)} is not among ${JSON.stringify(t.enum)}`);
  if (typeof v === "string" && t.format === "date-time" && !dateTime.test(v)) problems.push(`${at}: ${JSON.stringify(v)} is not a date-time`);
  if (k === "array" && t.items) v.forEach((item, i) => problems.push(...check(`${at}[${i}]`, t.items, item)));
  if (k === "object") {
    for (const [name, value] of Object.entries(v)) {
      const ft = t.properties?.[name];
      if (ft) problems.push(...check(`${at}.${name}`, ft, value));
      else if (!t.open) problems.push(`${at}.${name}: a field the OpenAPI does not list`);
    }
    for (const name of t.required ?? []) if (!(name in v)) problems.push(`${at}.${name}: required, and missing`);
  }
  return problems;
}

export function register(env) {
  describe("Agent Handler beyond users and connectors, raw requests checked against the OpenAPI", () => {
    const reached = new Set(); // "METHOD path" of the OpenAPI operations checked

    // send sends one request and returns its status and parsed body.
    const send = async (method, p, body) => {
      const res = await fetch(env().agent + p, {
        method,
        headers: { Authorization: `Bearer ${env().api_key}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, text, body: text === "" ? undefined : JSON.parse(text) };
    };

    // call sends one request, requires status (the one the OpenAPI lists),
    // and checks the body against the operation's response schema.
    const call = async (method, p, body, status = 200) => {
      const res = await send(method, p, body);
      assert.equal(res.status, status, `${method} ${p}: ${res.text}`);
      const op = operation(method, p);
      assert.ok(op, `${method} ${p}: the OpenAPI has no such operation`);
      assert.equal(op.status, status, `${method} ${p}: the status the OpenAPI lists`);
      reached.add(`${op.method} ${op.path}`);
      if (!op.schema) {
        assert.equal(res.text, "", `${method} ${p}: the OpenAPI gives no body`);
        return undefined;
      }
      const problems = check("body", op.schema, res.body);
      assert.deepEqual(problems, [], `${method} ${p}: the body does not match the OpenAPI\n${res.text}`);
      return res.body;
    };

    let user; // a registered user's id
    let pack; // a tool pack's id

    test("allowed callback origins: 201, then 200, in the documented shape", async () => {
      for (const status of [201, 200]) {
        const res = await send("POST", "/allowed-callback-origins/", { origin: "https://raw.example.com/cb?x=1#f" });
        assert.equal(res.status, status, res.text);
        assert.deepEqual(Object.keys(res.body).sort(), ["created_at", "id", "modified_at", "origin"], res.text);
        assert.equal(res.body.origin, "https://raw.example.com", "path, query and fragment dropped");
        assert.equal(typeof res.body.id, "string");
        for (const at of ["created_at", "modified_at"]) assert.match(res.body[at], dateTime, at);
      }
      const bad = await send("POST", "/allowed-callback-origins/", { origin: "http://example.com" });
      assert.equal(bad.status, 400, "plain http only for localhost");
    });

    test("tool packs, their connectors, and tool search", async () => {
      user = (await call("POST", "/registered-users/", { origin_user_id: "raw-1", origin_user_name: "Ada" }, 201)).id;
      const tp = await call("POST", "/tool-packs/", {
        name: "Support",
        description: "Tickets",
        connectors: [{ slug: "linear", tool_names: ["create_issue"] }, { slug: "slack" }],
      }, 201);
      pack = tp.id;
      assert.deepEqual(tp.connectors.map((c) => c.slug), ["linear", "slack"]);
      assert.deepEqual(tp.connectors[0].tools.map((t) => t.name), ["create_issue"]);
      await call("POST", "/tool-packs/", { name: "Other", description: "More" }, 201);
      const list = await call("GET", "/tool-packs/?page_size=1");
      assert.equal(list.results.length, 1);
      assert.equal(typeof list.next, "string");
      assert.ok(list.next.startsWith(env().agent), `next stays on the server: ${list.next}`);
      await call("GET", list.next.slice(env().agent.length));
      await call("GET", `/tool-packs/${pack}/`);
      assert.equal((await call("PATCH", `/tool-packs/${pack}/`, { name: "Support desk" })).name, "Support desk");
      await call("GET", `/tool-packs/${pack}/connectors/`);
      const put = await call("PUT", `/tool-packs/${pack}/connectors/`, [{ slug: "linear" }, { slug: "slack", tool_names: ["send_message"] }]);
      assert.deepEqual(put.map((c) => c.slug), ["linear", "slack"]);
      const patched = await call("PATCH", `/tool-packs/${pack}/connectors/`, [{ slug: "github" }]);
      assert.deepEqual(patched.map((c) => c.slug), ["linear", "slack", "github"]);
      await call("DELETE", `/tool-packs/${pack}/connectors/github/`);
      const found = await call("POST", `/tool-packs/${pack}/registered-users/${user}/search/`, { intent: "create an issue", max_results: 3 });
      assert.ok(found.tools.length > 0 && found.tools.length <= 3, JSON.stringify(found));
      await call("POST", `/tool-packs/${pack}/registered-users/${user}/search/`, { intent: "post", connector_slugs: ["slack"] });
    });

    test("application credentials, whose secret is never answered", async () => {
      const ac = await call("POST", "/application-credentials/", { connector_slug: "linear", client_id: "cid", client_secret: "raw-shh", external_id: "app-1" }, 201);
      await call("POST", "/application-credentials/", { connector_slug: "slack", client_id: "cid2" }, 201);
      await call("GET", "/application-credentials/");
      const filtered = await call("GET", "/application-credentials/?slug=linear&external_id=app-1");
      assert.deepEqual(filtered.results.map((c) => c.id), [ac.id]);
      await call("GET", `/application-credentials/${ac.id}/`);
      await call("PATCH", `/application-credentials/${ac.id}/`, { client_id: "cid3", external_id: null });
      await call("DELETE", `/application-credentials/${ac.id}/`);
      assert.equal((await send("GET", `/application-credentials/${ac.id}/`)).status, 404);
      assert.ok(!JSON.stringify(filtered).includes("raw-shh"));
    });

    test("access keys: created, read, regenerated, revoked", async () => {
      const k = await call("POST", "/access-keys/", { name: "ci", tool_pack_ids: [pack], expires_in: 3600 }, 201);
      assert.equal(typeof k.key, "string");
      await call("POST", "/access-keys/", { name: "forever", expires_at: null }, 201);
      await call("GET", "/access-keys/");
      await call("GET", "/access-keys/?page_size=1");
      const got = await call("GET", `/access-keys/${k.id}/`);
      assert.ok(!("key" in got), "the secret only when issued");
      const again = await call("POST", `/access-keys/${k.id}/regenerate/`);
      assert.notEqual(again.key, k.key);
      await call("POST", `/access-keys/${k.id}/revoke/`);
    });

    test("standard entity and custom regex rules, for the organization and per tool pack", async () => {
      await call("GET", "/security/standard-entity-rules/");
      await call("GET", "/security/standard-entity-rules/EMAIL_ADDRESS/");
      await call("PUT", "/security/standard-entity-rules/EMAIL_ADDRESS/", { is_active: true, inbound_action: "REDACT", outbound_action: "BLOCK" });
      await call("GET", `/tool-packs/${pack}/standard-entity-rules/`);
      await call("PUT", `/tool-packs/${pack}/standard-entity-rules/EMAIL_ADDRESS/`, { is_active: false, inbound_action: "NONE", outbound_action: "LOG" });
      await call("GET", `/tool-packs/${pack}/standard-entity-rules/EMAIL_ADDRESS/`);
      await call("GET", `/tool-packs/${pack}/standard-entity-rules/?defined_at=TOOL_PACK`);
      await call("DELETE", `/tool-packs/${pack}/standard-entity-rules/EMAIL_ADDRESS/`);

      const rule = await call("POST", "/security/custom-regex-rules/", { name: "Ticket ids", regex: "TCK-[0-9]+", score: 0.8, context_keywords: ["ticket"] }, 201);
      await call("GET", "/security/custom-regex-rules/");
      await call("GET", `/security/custom-regex-rules/${rule.id}/`);
      await call("PATCH", `/security/custom-regex-rules/${rule.id}/`, { score: 0.5, is_active: false });
      await call("GET", `/tool-packs/${pack}/custom-regex-rules/`);
      await call("GET", `/tool-packs/${pack}/custom-regex-rules/${rule.id}/`);
      await call("PATCH", `/tool-packs/${pack}/custom-regex-rules/${rule.id}/`, { is_active: true });
      const own = await call("POST", `/tool-packs/${pack}/custom-regex-rules/`, {
        name: "Codes", regex: "C[0-9]{4}", score: 0.9, context_keywords: [], is_active: true, inbound_action: "REDACT", outbound_action: "BLOCK",
      }, 201);
      await call("GET", `/tool-packs/${pack}/custom-regex-rules/?defined_at=TOOL_PACK`);
      await call("DELETE", `/tool-packs/${pack}/custom-regex-rules/${own.id}/`);
      await call("DELETE", `/security/custom-regex-rules/${rule.id}/`);
    });

    test("tool description overrides, per connector and per tool pack", async () => {
      await call("PATCH", "/connectors/tool-description-overrides/", [{ connector_slug: "linear", tool_name: "create_issue", description: "Files a bug." }]);
      const all = await call("GET", "/connectors/tool-description-overrides/");
      assert.ok(all.results.some((o) => o.description === "Files a bug."), JSON.stringify(all));
      await call("GET", "/connectors/tool-description-overrides/?slug=linear");
      await call("PATCH", `/tool-packs/${pack}/tool-description-overrides/`, [{ connector_slug: "linear", tool_name: "create_issue", description: "Files a ticket." }]);
      await call("GET", `/tool-packs/${pack}/tool-description-overrides/`);
      await call("PATCH", `/tool-packs/${pack}/tool-description-overrides/`, [{ connector_slug: "linear", tool_name: "create_issue", description: null }]);
    });

    test("the audit log, with its filters", async () => {
      const all = await call("GET", "/audit-log/");
      assert.ok(all.count > 0);
      const created = await call("GET", "/audit-log/?event_type=REGISTERED_USER_CREATED&page_size=1");
      assert.ok(created.results.every((e) => e.event_type === "REGISTERED_USER_CREATED"));
      await call("GET", `/audit-log/?created_after=${encodeURIComponent(new Date(Date.now() - 3600e3).toISOString())}`);
      await call("DELETE", `/tool-packs/${pack}/`);
    });

    test("every operation of those groups was reached", () => {
      const groups = /^\/(tool-packs|application-credentials|access-keys|audit-log|security|connectors\/tool-description-overrides)/;
      const missing = fields.operations
        .filter((op) => op.status >= 200 && op.status < 300 && groups.test(op.path) && !op.path.endsWith("/mcp/"))
        .map((op) => `${op.method} ${op.path}`)
        .filter((op) => !reached.has(op));
      assert.deepEqual([...new Set(missing)], []);
    });

    test("the check refuses what it should", () => {
      const op = operation("GET", "/access-keys/abc/");
      assert.equal(op.path, "/access-keys/{key_id}/");
      assert.equal(operation("GET", "/connectors/tool-description-overrides/?slug=x").path, "/connectors/tool-description-overrides/");
      const good = { id: "k", name: "n", key_masked: "****", tool_pack_ids: null, registered_user_ids: null, scopes: [], is_test: false, expires_at: null, created_at: "2026-01-02T03:04:05Z" };
      assert.deepEqual(check("body", op.schema, good), []);
      const problems = check("body", op.schema, { ...good, key_masked: 5, extra: 1, created_at: "yesterday" }).join("\n");
      for (const want of ["key_masked: a JSON integer", ".extra: a field the OpenAPI does not list", '"yesterday" is not a date-time']) {
        assert.ok(problems.includes(want), `${want} in\n${problems}`);
      }
    });
  });
}
