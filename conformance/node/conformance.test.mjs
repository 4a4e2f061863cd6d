// Drives mergetest with Merge's official Node client, @mergeapi/merge-node-client
// (the version package.json pins), so that mergetest answers as Merge does
// for Merge's own clients. The client parses leniently (skipValidation), so
// every response body is also parsed strictly with the client's own
// serializers: a field of the wrong type, a missing required field or a
// field the client does not know fails the check.
//
// It starts cmd/mergetest (the binary in $MERGETEST_BIN, or `go run
// ./cmd/mergetest`) on a free port and drives it through its documented
// control API only (cmd/mergetest/README.md), as a test in any language
// would: no Go code of its own.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { MergeClient, MergeError, serialization } from "@mergeapi/merge-node-client";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");

let server; // the cmd/mergetest process
let env; // what cmd/mergetest -json printed: url, unified, agent, control, api_key, test_api_key
const bodies = []; // every response body the client read: {method, url, status, body}

// recordingFetch is fetch, keeping a copy of every JSON body for the
// strict checks.
async function recordingFetch(input, init) {
  const res = await fetch(input, init);
  const text = await res.clone().text();
  let body;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  bodies.push({ method: init?.method ?? "GET", url: String(input), status: res.status, body });
  return res;
}

function client(apiKey = env.api_key) {
  return new MergeClient({ apiKey, baseUrl: env.unified, fetch: recordingFetch, maxRetries: 0 });
}

// lastBody returns the body of the last response whose URL contains part.
function lastBody(part) {
  for (let i = bodies.length - 1; i >= 0; i--) {
    if (bodies[i].url.includes(part)) return bodies[i];
  }
  assert.fail(`no response from ${part}`);
}

// strict parses raw with one of the client's serializers, refusing unknown
// keys and wrong types.
function strict(schema, raw, what) {
  const res = schema.parse(raw, { unrecognizedObjectKeys: "fail", skipValidation: false, breadcrumbsPrefix: [what] });
  assert.ok(res.ok, `${what}: the official client's schema refuses mergetest's body: ${JSON.stringify(res.errors)}\n${JSON.stringify(raw)}`);
  return res.value;
}

// control calls cmd/mergetest's control API (POST with a JSON body, or
// another method) and requires 200.
async function control(path, body, method = "POST") {
  const res = await fetch(env.control + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const out = await res.json();
  assert.equal(res.status, 200, `control ${path}: ${JSON.stringify(out)}`);
  return out;
}

// webhookReceiver listens on loopback for webhooks; next resolves to the
// next one received, {raw, signature} (signature from the header named).
async function webhookReceiver(header) {
  const received = [];
  let wake = () => {};
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ raw: Buffer.concat(chunks), signature: req.headers[header] });
      res.writeHead(200).end();
      wake();
    });
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  const next = async () => {
    while (received.length === 0) await new Promise((resolve) => (wake = resolve));
    return received.shift();
  };
  return { receiver, next };
}

const hris = serialization.hris;

before(async () => {
  let bin = process.env.MERGETEST_BIN;
  if (!bin) {
    // Built, not `go run`, so that SIGTERM reaches cmd/mergetest itself.
    bin = path.join(mkdtempSync(path.join(tmpdir(), "mergetest-")), "mergetest");
    execFileSync("go", ["build", "-o", bin, "./cmd/mergetest"], { cwd: root, stdio: "inherit" });
  }
  const args = ["-addr", "127.0.0.1:0", "-json", "-allowed-origin", "https://app.example.com"];
  server = spawn(bin, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  const [line] = await Promise.race([
    once(lines, "line"),
    once(server, "exit").then(([code]) => {
      throw new Error(`cmd/mergetest exited with ${code} before printing its URLs`);
    }),
  ]);
  env = JSON.parse(line);
  assert.deepEqual(await control("/health", undefined, "GET"), { status: "ok" });
});

after(async () => {
  if (!server || server.exitCode !== null) return;
  const exited = once(server, "exit");
  server.kill("SIGTERM"); // cmd/mergetest shuts down cleanly on SIGTERM
  const [code, signal] = await exited;
  assert.equal(code, 0, `cmd/mergetest exited with ${code} (${signal}) on SIGTERM`);
});

let seq = 0;
function originId(prefix) {
  seq++;
  return `${prefix}-${seq}`;
}

const base = () => ({
  endUserEmailAddress: "jane@example.com",
  endUserOrganizationName: "Example Organization",
  endUserOriginId: originId("node"),
});

describe("link tokens", () => {
  test("every field the client has, with a Magic Link", async () => {
    const req = {
      ...base(),
      categories: ["ats"],
      integration: "greenhouse",
      linkExpiryMins: 10080,
      shouldCreateMagicLinkUrl: true,
      hideAdminMagicLink: true,
      commonModels: [{ modelId: "ats.Candidate", enabledActions: ["READ", "WRITE"], disabledFields: ["phone_numbers"] }],
      categoryCommonModelScopes: {
        ats: [
          {
            modelName: "Candidate",
            modelPermissions: { READ: { isEnabled: true }, WRITE: { isEnabled: false } },
            fieldPermissions: { enabledFields: ["first_name"], disabledFields: ["phone_numbers"] },
          },
        ],
      },
      language: "de",
      areSyncsDisabled: true,
      integrationSpecificConfig: { tenant: "eu-1", retries: 2 },
      linkedDestinationId: "6b1f1a56-0c57-4d4a-9e1c-0d6f1b0b6a11",
    };
    const lt = await client().ats.linkToken.create(req);
    const raw = strict(hris.LinkToken, lastBody("/ats/v1/link-token").body, "LinkToken");
    assert.equal(lt.linkToken, raw.linkToken);
    assert.equal(lt.integrationName, "Greenhouse");
    assert.ok(lt.magicLinkUrl.startsWith(env.url + "/link/"), lt.magicLinkUrl);
    assert.equal(lastBody("/ats/v1/link-token").status, 200, "200, as the OpenAPI lists it");
  });

  test("without a Magic Link or an integration", async () => {
    const lt = await client().hris.linkToken.create({ ...base(), categories: ["hris"] });
    strict(hris.LinkToken, lastBody("/hris/v1/link-token").body, "LinkToken");
    assert.ok(lt.linkToken.length > 0);
    assert.equal(lt.magicLinkUrl, undefined);
    assert.equal(lt.integrationName, undefined);
  });

  // Merge's reference posts ["hris", "ats"] to ats, accounting, crm,
  // ticketing and filestorage: the path's category may be any listed one.
  for (const [api, categories] of [
    ["ats", ["hris", "ats"]],
    ["accounting", ["hris", "ats", "accounting"]],
    ["crm", ["crm", "hris"]],
    ["ticketing", ["hris", "ticketing"]],
    ["filestorage", ["ats", "filestorage", "hris"]],
  ]) {
    test(`categories ${categories} posted to ${api}`, async () => {
      const lt = await client()[api].linkToken.create({ ...base(), categories, shouldCreateMagicLinkUrl: false });
      strict(hris.LinkToken, lastBody(`/${api}/v1/link-token`).body, "LinkToken");
      assert.ok(lt.linkToken.length > 0);
    });
  }
});

describe("account token", () => {
  test("exchanged once for the Linked Account's token", async () => {
    const c = client();
    const lt = await c.ats.linkToken.create({ ...base(), categories: ["hris", "ats"], shouldCreateMagicLinkUrl: true });
    const la = await control("/links/complete", { link: lt.magicLinkUrl, integration: "lever" });
    assert.equal(la.category, "ats");

    const at = await c.ats.accountToken.retrieve(la.public_token);
    const raw = strict(hris.AccountToken, lastBody("/account-token/").body, "AccountToken");
    assert.equal(at.accountToken, la.account_token);
    assert.equal(at.id, la.id);
    assert.equal(at.integration.slug, "lever");
    assert.equal(at.integration.name, "Lever");
    assert.deepEqual(at.integration.categories, ["ats"]);
    assert.equal(raw.accountToken, la.account_token);

    await assert.rejects(c.ats.accountToken.retrieve(la.public_token), (err) => {
      assert.ok(err instanceof MergeError);
      assert.equal(err.statusCode, 404, "a public token works once");
      return true;
    });
  });
});

describe("linked accounts", () => {
  const customer = "Customer With 34 Accounts";
  const accounts = []; // {id, originId, category, integration}

  before(async () => {
    const c = client();
    const integrations = [
      ["ats", "greenhouse"],
      ["hris", "bamboohr"],
      ["crm", "salesforce"],
    ];
    for (let i = 0; i < 34; i++) {
      const [category, integration] = integrations[i % integrations.length];
      const origin = `cust34-${String(i).padStart(2, "0")}`;
      const lt = await c[category].linkToken.create({
        endUserEmailAddress: `user${i}@customer34.test`,
        endUserOrganizationName: customer,
        endUserOriginId: origin,
        categories: [category],
      });
      const la = await control("/links/complete", { link: lt.linkToken, integration });
      accounts.push({ id: la.id, originId: origin, category, integration, email: `user${i}@customer34.test` });
    }
    // An account of another customer, one test account and one that
    // needs a relink, for the filters.
    const other = await c.hris.linkToken.create({ ...base(), endUserOrganizationName: "Other Customer", categories: ["hris"] });
    await control("/links/complete", { link: other.linkToken, integration: "workday" });
    const test = await c.hris.linkToken.create({ ...base(), endUserOrganizationName: "Test Customer", categories: ["hris"] });
    const testAccount = await control("/links/complete", { link: test.linkToken, integration: "workday" });
    await control(`/linked-accounts/${testAccount.id}/test-account`, { is_test_account: true });
    await control(`/linked-accounts/${accounts[5].id}/status`, { status: "RELINK_NEEDED" });
    accounts[5].status = "RELINK_NEEDED";
  });

  test("the client's own pager reads 30 on the first page and all 34 to the end", async () => {
    const page = await client().hris.linkedAccounts.list({ endUserOrganizationName: customer });
    assert.equal(page.data.length, 30, "30 without page_size, as at Merge");
    assert.ok(page.hasNextPage());
    const first = strict(hris.PaginatedAccountDetailsAndActionsList, lastBody("/linked-accounts").body, "PaginatedAccountDetailsAndActionsList");
    assert.equal(typeof first.next, "string");
    assert.ok(!first.next.includes("/"), `next is a bare cursor, not a URL: ${first.next}`);
    assert.equal(first.previous ?? null, null);

    const seen = [];
    for await (const acct of page) seen.push(acct.endUserOriginId);
    assert.deepEqual(
      seen,
      accounts.map((a) => a.originId),
    );
    const lastPage = strict(hris.PaginatedAccountDetailsAndActionsList, lastBody("/linked-accounts").body, "last page");
    assert.equal(lastPage.results.length, 4);
    assert.equal(lastPage.next ?? null, null);
    assert.equal(typeof lastPage.previous, "string");
  });

  test("every field of an account is read right", async () => {
    const a = accounts[0];
    const page = await client().ats.linkedAccounts.list({ id: a.id });
    assert.equal(page.data.length, 1);
    const got = page.data[0];
    strict(hris.PaginatedAccountDetailsAndActionsList, lastBody("/linked-accounts").body, "one account");
    assert.equal(got.id, a.id);
    assert.equal(got.category, a.category);
    assert.equal(got.status, "COMPLETE");
    assert.equal(got.endUserOriginId, a.originId);
    assert.equal(got.endUserOrganizationName, customer);
    assert.equal(got.endUserEmailAddress, a.email);
    assert.equal(got.integration.slug, a.integration);
    assert.equal(got.integration.name, "Greenhouse");
    assert.deepEqual(got.integration.categories, ["ats"]);
    assert.equal(got.accountType, "PRODUCTION");
    assert.equal(got.isDuplicate, false);
    assert.ok(got.webhookListenerUrl.startsWith(env.url));
    const completed = strict(hris.AccountDetailsAndActions, lastBody("/linked-accounts").body.results[0], "AccountDetailsAndActions").completedAt;
    assert.ok(completed instanceof Date && !Number.isNaN(completed.getTime()));
  });

  const all = async (request) => {
    const out = [];
    for await (const acct of await client().crm.linkedAccounts.list(request)) out.push(acct.endUserOriginId);
    for (const b of bodies.filter((b) => b.url.includes("/linked-accounts"))) {
      strict(hris.PaginatedAccountDetailsAndActionsList, b.body, "PaginatedAccountDetailsAndActionsList");
    }
    return out;
  };
  const ids = (pred) => accounts.filter(pred).map((a) => a.originId);

  test("every filter", async () => {
    const a = accounts[3];
    const b = accounts[7];
    const cases = [
      [{ category: "ats", endUserOrganizationName: customer }, ids((x) => x.category === "ats")],
      [{ endUserEmailAddress: a.email }, [a.originId]],
      [{ endUserOriginId: b.originId }, [b.originId]],
      [{ endUserOriginIds: `${b.originId},${a.originId},nobody` }, [a.originId, b.originId]],
      [{ id: a.id }, [a.originId]],
      [{ ids: `${a.id},${b.id}` }, [a.originId, b.originId]],
      [{ includeDuplicates: true, id: a.id }, [a.originId]],
      [{ integrationName: "Salesforce", endUserOrganizationName: customer }, ids((x) => x.integration === "salesforce")],
      [{ status: "RELINK_NEEDED" }, [accounts[5].originId]],
      [{ status: "COMPLETE", endUserOrganizationName: customer }, ids((x) => x.status === undefined)],
      [{ isTestAccount: "true" }, null],
      [{ pageSize: 7, endUserOrganizationName: customer }, ids(() => true)],
      [{ pageSize: 100, endUserOrganizationName: customer }, ids(() => true)],
    ];
    for (const [request, want] of cases) {
      const got = await all(request);
      if (want === null) {
        assert.equal(got.length, 1, `${JSON.stringify(request)}: only the test account`);
        continue;
      }
      assert.deepEqual(got, want, JSON.stringify(request));
    }
  });

  test("pages of page_size, read with getNextPage", async () => {
    let page = await client().hris.linkedAccounts.list({ endUserOrganizationName: customer, pageSize: 10 });
    const sizes = [page.data.length];
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      sizes.push(page.data.length);
    }
    assert.deepEqual(sizes, [10, 10, 10, 4]);
  });
});

describe("errors the client parses", () => {
  test("400 with Merge's errors[] body", async () => {
    await assert.rejects(
      client().hris.linkToken.create({ ...base(), categories: ["hris"], linkExpiryMins: 5 }),
      (err) => {
        assert.ok(err instanceof MergeError, String(err));
        assert.equal(err.statusCode, 400);
        assert.equal(err.body.errors[0].source.pointer, "/link_expiry_mins");
        assert.equal(err.body.errors[0].problem_type, "INVALID_FIELD");
        assert.ok(Array.isArray(err.body.warnings));
        return true;
      },
    );
    await assert.rejects(client().ats.linkToken.create({ ...base(), categories: ["ats"], integration: "acme-recruiting" }), (err) => {
      assert.equal(err.statusCode, 400);
      assert.equal(err.body.errors[0].source.pointer, "/integration");
      return true;
    });
  });

  test("401 with a detail", async () => {
    await assert.rejects(client("not-the-key").hris.linkedAccounts.list(), (err) => {
      assert.ok(err instanceof MergeError, String(err));
      assert.equal(err.statusCode, 401);
      assert.equal(typeof err.body.detail, "string");
      return true;
    });
  });

  test("404 with a detail", async () => {
    await assert.rejects(client().hris.accountToken.retrieve("no-such-public-token"), (err) => {
      assert.ok(err instanceof MergeError, String(err));
      assert.equal(err.statusCode, 404);
      assert.equal(err.body.detail, "Not found.");
      return true;
    });
    await assert.rejects(client().hris.linkedAccounts.list({ cursor: "not-a-cursor" }), (err) => {
      assert.equal(err.statusCode, 404);
      assert.equal(typeof err.body.detail, "string");
      return true;
    });
  });
});

// Agent Handler has no official Node client: these checks speak its wire
// with fetch, and verify mergetest's webhook signatures with Node's own
// crypto, apart from the Go code that makes them.
describe("Agent Handler, spoken with fetch", () => {
  const agent = async (method, p, body) => {
    const res = await fetch(p.startsWith("http") ? p : env.agent + p, {
      method,
      headers: { Authorization: `Bearer ${env.api_key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
  };
  const connectorFields = ["id", "name", "slug", "description", "source_url", "logo_url", "categories", "auth_options", "tools"];

  test("connectors, page by page through full next URLs on the server", async () => {
    const all = await agent("GET", "/connectors/");
    assert.equal(all.status, 200);
    const slugs = [];
    let page = await agent("GET", "/connectors/?page_size=4");
    for (let n = 0; ; n++) {
      assert.equal(page.status, 200);
      assert.equal(page.body.count, all.body.count);
      for (const k of page.body.results) {
        assert.deepEqual(Object.keys(k).sort(), [...connectorFields].sort(), `fields of ${k.slug}`);
        slugs.push(k.slug);
      }
      if (page.body.next === null) break;
      assert.equal(new URL(page.body.next).origin, env.url, "next stays on the server");
      assert.ok(n < 20, "the pages never end");
      page = await agent("GET", page.body.next);
    }
    assert.deepEqual(slugs, all.body.results.map((k) => k.slug));

    const linear = await agent("GET", "/connectors/linear/");
    assert.equal(linear.status, 200);
    assert.equal(linear.body.name, "Linear");
    const missing = await agent("GET", "/connectors/no-such-connector/");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "connector_not_found");
  });

  test("signed webhooks as a user connects and disconnects, and a rotated key", async () => {
    const { receiver, next } = await webhookReceiver("x-merge-signature");
    // verified reports whether the hook's X-Merge-Signature is the hex
    // HMAC-SHA256 of its raw body under key.
    const verified = (hook, key) => {
      const want = createHmac("sha256", key).update(hook.raw).digest();
      const got = Buffer.from(hook.signature ?? "", "hex");
      return got.length === want.length && timingSafeEqual(got, want);
    };
    try {
      await control("/agent-webhook", { url: `http://127.0.0.1:${receiver.address().port}/hooks`, key: "node-key-1" });
      const user = await agent("POST", "/registered-users/", { origin_user_id: originId("agent"), origin_user_name: "Ada" });
      assert.equal(user.status, 201);
      const lt = await agent("POST", `/registered-users/${user.body.id}/link-token/`, { connector: "linear" });
      assert.equal(lt.status, 201);
      await control("/agent-links/complete", { link: lt.body.magic_link_url });
      const del = await agent("DELETE", `/credentials/registered-users/${user.body.id}/connectors/linear/`);
      assert.equal(del.status, 200);
      assert.deepEqual((await agent("GET", `/registered-users/${user.body.id}/`)).body.authenticated_connectors, []);

      const events = [];
      for (const want of ["registered_user.created", "credential.created", "credential.deleted"]) {
        const hook = await next();
        assert.ok(verified(hook, "node-key-1"), `${want}: X-Merge-Signature ${hook.signature} is not the hex HMAC-SHA256 of the body`);
        assert.ok(!verified(hook, "another key"));
        const ev = JSON.parse(hook.raw);
        events.push(ev.event);
        assert.equal(ev.data.registered_user.id, user.body.id);
        if (want.startsWith("credential.")) assert.equal(ev.data.connector.slug, "linear");
      }
      assert.deepEqual(events, ["registered_user.created", "credential.created", "credential.deleted"]);

      await control("/agent-webhook/rotate", { key: "node-key-2" });
      assert.equal((await agent("PATCH", `/registered-users/${user.body.id}/`, { origin_user_name: "Ada L." })).status, 200);
      const updated = await next();
      assert.equal(JSON.parse(updated.raw).event, "registered_user.updated");
      assert.ok(verified(updated, "node-key-2"), "signed with the new key");
      assert.ok(!verified(updated, "node-key-1"), "the old key stops verifying at once");
    } finally {
      receiver.close();
    }
  });
});

// The Unified API's webhooks, signed as Merge signs them (base64url of the
// HMAC-SHA256 of the raw body), checked with Node's own crypto, and what
// cmd/mergetest's deliveries control reports of them.
describe("Unified webhooks, through the control API", () => {
  test("a link's webhooks arrive signed, are listed with their signature, and are redelivered byte for byte", async () => {
    const { receiver, next } = await webhookReceiver("x-merge-webhook-signature");
    const sign = (raw, key) => createHmac("sha256", key).update(raw).digest("base64url");
    try {
      const url = `http://127.0.0.1:${receiver.address().port}/merge`;
      await control("/webhook", { url, key: "unified-key-1" });
      const before = (await control("/deliveries", undefined, "GET")).results.length;
      const lt = await client().hris.linkToken.create({ ...base(), categories: ["hris"] });
      const la = await control("/links/complete", { link: lt.linkToken, integration: "bamboohr" });
      const linked = await next();
      assert.equal(linked.signature, sign(linked.raw, "unified-key-1"), "X-Merge-Webhook-Signature is the base64url HMAC-SHA256 of the body");
      const ev = JSON.parse(linked.raw);
      assert.equal(ev.hook.event, "LinkedAccount.linked");
      assert.equal(ev.linked_account.id, la.id);
      assert.equal(ev.data.account_token, la.account_token);
      await next(); // LinkedAccount.synced_initial

      const { results } = await control(`/deliveries?wait=${before + 2}&timeout_ms=10000`, undefined, "GET");
      const d = results[before];
      assert.equal(d.payload, linked.raw.toString("utf8"), "the payload is the exact body sent");
      assert.equal(d.signature, linked.signature);
      assert.deepEqual(d.headers["X-Merge-Webhook-Signature"], [linked.signature]);
      assert.equal(d.url, url);
      assert.equal(d.status_code, 200);

      await control(`/deliveries/${d.id}/redeliver`, {});
      const again = await next();
      assert.ok(again.raw.equals(linked.raw), "redelivered byte for byte");
      assert.equal(again.signature, linked.signature, "with the same signature");

      await control(`/linked-accounts/${la.id}`, undefined, "DELETE");
      const deleted = await next();
      assert.equal(JSON.parse(deleted.raw).hook.event, "LinkedAccount.deleted");
      const res = await fetch(`${env.control}/linked-accounts/${la.id}`, { method: "DELETE" });
      assert.equal(res.status, 404);
      assert.match((await res.json()).error, /no such Linked Account/);
    } finally {
      receiver.close();
    }
  });
});

// After the link: the calls made with a Linked Account's token in
// X-Account-Token, and the organization's issues.
describe("after the link", () => {
  // linkHris links a new HRIS account and returns it with a client that
  // carries its account token.
  async function linkHris() {
    const user = base();
    const lt = await client().hris.linkToken.create({ ...user, categories: ["hris"], shouldCreateMagicLinkUrl: true });
    const la = await control("/links/complete", { link: lt.magicLinkUrl, integration: "bamboohr" });
    const c = new MergeClient({ apiKey: env.api_key, accountToken: la.account_token, baseUrl: env.unified, fetch: recordingFetch, maxRetries: 0 });
    return { la, c, origin: user.endUserOriginId };
  }

  test("account details", async () => {
    const { la, c } = await linkHris();
    const d = await c.hris.accountDetails.retrieve();
    strict(hris.AccountDetails, lastBody("/hris/v1/account-details").body, "AccountDetails");
    assert.equal(d.id, la.id);
    assert.equal(d.integrationSlug, "bamboohr");
    assert.equal(d.category, "hris");
    assert.equal(d.status, "COMPLETE");
  });

  test("sync status, every page, and a resync", async () => {
    const { c } = await linkHris();
    const models = [];
    const page = await c.hris.syncStatus.list({ pageSize: 2 });
    for await (const st of page) models.push(st.modelId);
    for (const b of bodies.filter((b) => b.url.includes("/hris/v1/sync-status?") || b.url.endsWith("/hris/v1/sync-status"))) {
      strict(hris.PaginatedSyncStatusList, b.body, "PaginatedSyncStatusList");
    }
    assert.ok(models.includes("hris.Employee"), JSON.stringify(models));
    assert.equal(new Set(models).size, models.length, "every model once: the client followed the bare cursors");
    const sts = await c.hris.forceResync.syncStatusResyncCreate();
    for (const st of lastBody("/hris/v1/sync-status/resync").body) strict(hris.SyncStatus, st, "SyncStatus");
    assert.equal(sts.length, models.length);
    assert.ok(sts.every((st) => st.status === "SYNCING"));
  });

  test("employees, page after page", async () => {
    const { c } = await linkHris();
    const ids = [];
    for await (const e of await c.hris.employees.list({ pageSize: 2 })) ids.push(e.id);
    for (const b of bodies.filter((b) => b.url.includes("/hris/v1/employees?"))) {
      strict(hris.PaginatedEmployeeList, b.body, "PaginatedEmployeeList");
    }
    assert.equal(ids.length, 5);
    const one = await c.hris.employees.retrieve(ids[3]);
    strict(hris.Employee, lastBody(`/hris/v1/employees/${ids[3]}`).body, "Employee");
    assert.equal(one.id, ids[3]);
  });

  test("issues, with the client's filters", async () => {
    const { la } = await linkHris();
    const raised = await control(`/linked-accounts/${la.id}/issues`, { description: "Missing Permissions" });
    const found = [];
    for await (const is of await client().hris.issues.list({ linkedAccountId: la.id, status: "ONGOING", pageSize: 1 })) found.push(is);
    strict(hris.PaginatedIssueList, lastBody("/hris/v1/issues").body, "PaginatedIssueList");
    assert.deepEqual(found.map((is) => is.id), [raised.id]);
    assert.equal(found[0].errorDescription, "Missing Permissions");
    const one = await client().hris.issues.retrieve(raised.id);
    strict(hris.Issue, lastBody(`/hris/v1/issues/${raised.id}`).body, "Issue");
    assert.equal(one.status, "ONGOING");
  });

  test("a regenerated token replaces the old one", async () => {
    const { la, c } = await linkHris();
    const rt = await c.hris.accountToken.regenerateCreate();
    strict(hris.RegenerateAccountToken, lastBody("/account-token/regenerate").body, "RegenerateAccountToken");
    assert.equal(rt.linkedAccountId, la.id);
    assert.notEqual(rt.accountToken, la.account_token);
    await assert.rejects(c.hris.accountDetails.retrieve(), (err) => err instanceof MergeError && err.statusCode === 401);
    const fresh = new MergeClient({ apiKey: env.api_key, accountToken: rt.accountToken, baseUrl: env.unified, fetch: recordingFetch, maxRetries: 0 });
    assert.equal((await fresh.hris.accountDetails.retrieve()).id, la.id);
  });

  test("delete, then the token fails", async () => {
    const { la, c, origin } = await linkHris();
    const listed = async () => {
      const ids = [];
      for await (const a of await client().hris.linkedAccounts.list({ endUserOriginId: origin })) ids.push(a.id);
      return ids;
    };
    assert.deepEqual(await listed(), [la.id]);
    await c.hris.deleteAccount.delete();
    assert.equal(lastBody("/hris/v1/delete-account").status, 200);
    await assert.rejects(c.hris.accountDetails.retrieve(), (err) => err instanceof MergeError && err.statusCode === 401);
    assert.deepEqual(await listed(), [], "the id leaves the list");
  });
});
(await import("./agenthandler-raw.mjs")).register(() => env); // Agent Handler beyond users and connectors
