#!/usr/bin/env python3
"""Extract the response field lists mergetest's schema test needs from
Merge's exported OpenAPI documents into mergetest/testdata/openapi-fields.json.

    python3 conformance/openapi/extract.py HRIS.yaml AGENT_HANDLER.yaml

With the Agent Handler document alone it writes Agent Handler's lists only,
for the raw requests of the conformance check
(conformance/node/agenthandler-openapi.json):

    python3 conformance/openapi/extract.py AGENT_HANDLER.yaml

The tests read only the JSON this writes, never the OpenAPI documents, so
that they run from the project's own files. Run it again when the documents
change (PyYAML needed). For each operation mergetest serves or may serve it
keeps the method, the path (the HRIS path's category as {category}), the
status and the response schema; for each schema those reach, its field
names, their JSON types, which are required, and enums.
"""
import json
import re
import sys

import yaml

UNIFIED = re.compile(r"^/hris/v1/(link-token|linked-accounts|account-token/\{public_token\}|account-token/regenerate|"
                     r"account-details|delete-account|sync-status|sync-status/resync|issues|issues/\{id\})$")


def main(*paths):
    docs = (("unified", paths[0]), ("agent", paths[1])) if len(paths) == 2 else (("agent", paths[0]),)
    out = {"source": "Merge's exported OpenAPI for " + " and ".join("HRIS" if api == "unified" else "Agent Handler" for api, _ in docs)
           + " (see conformance/openapi/extract.py)", "operations": [], "schemas": {}}
    for api, path in docs:
        doc = yaml.safe_load(open(path))
        comps = doc["components"]["schemas"]
        refs = set()

        def typ(s):
            if s is None:
                return {"types": ["any"]}
            if "$ref" in s:
                name = s["$ref"].rsplit("/", 1)[1]
                refs.add(name)
                return {"ref": name}
            for key in ("oneOf", "anyOf"):
                if key in s:
                    return {"any_of": [typ(x) for x in s[key]]}
            if "allOf" in s:
                if len(s["allOf"]) == 1:
                    return typ(s["allOf"][0])
                return {"all_of": [typ(x) for x in s["allOf"]]}
            t = s.get("type", "any")
            types = t if isinstance(t, list) else [t]
            if s.get("nullable"):
                types = types + ["null"]
            r = {"types": types}
            if "enum" in s:
                r["enum"] = s["enum"]
            if "array" in types:
                r["items"] = typ(s.get("items"))
            if "object" in types or "properties" in s:
                r.update(obj(s))
            if s.get("format") in ("date-time", "uuid", "uri", "date"):
                r["format"] = s["format"]
            return r

        def obj(s):
            props = {k: typ(v) for k, v in (s.get("properties") or {}).items()}
            r = {"properties": props, "required": s.get("required", [])}
            ap = s.get("additionalProperties")
            if not s.get("properties") or ap not in (None, False):
                r["open"] = True  # a map, or an object without a field list (a tool's input schema)
            return r

        for p, ops in doc["paths"].items():
            if api == "unified" and not UNIFIED.match(p):
                continue
            for method, op in ops.items():
                if not isinstance(op, dict):
                    continue
                for code, resp in op.get("responses", {}).items():
                    schema = (resp.get("content") or {}).get("application/json", {}).get("schema")
                    opath = p.replace("/hris/", "/{category}/") if api == "unified" else p.removeprefix("/api/v1")
                    out["operations"].append({"api": api, "method": method.upper(), "path": opath,
                                              "status": int(code), "schema": typ(schema) if schema else None})
        done = set()
        while refs - done:
            name = sorted(refs - done)[0]
            done.add(name)
            out["schemas"][name] = typ(comps[name]) if "$ref" in comps[name] else typ(dict(comps[name], type=comps[name].get("type", "object")))
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
