#!/usr/bin/env python3
"""Extract the query parameters of GET /hris/v1/employees from Merge's
exported HRIS OpenAPI into mergetest/testdata/openapi-employees-params.json.

    python3 conformance/openapi/employee_filters.py HRIS.yaml

mergetest's TestEmployeesFiltersAsTheOpenAPI reads only that JSON: each
parameter listed there must have an effect in mergetest, or be named in the
test as one that only shapes the answer. Run it again when the document
changes (PyYAML needed).
"""
import json
import sys

import yaml


def main(hris_path):
    doc = yaml.safe_load(open(hris_path))
    comps = doc["components"]["schemas"]
    params = []
    for p in doc["paths"]["/hris/v1/employees"]["get"]["parameters"]:
        if p.get("in") != "query":
            continue
        schema = p["schema"]
        if "$ref" in schema:
            schema = comps[schema["$ref"].rsplit("/", 1)[1]]
        entry = {"name": p["name"], "type": schema.get("type", "string")}
        if "format" in schema:
            entry["format"] = schema["format"]
        if "enum" in schema:
            entry["enum"] = schema["enum"]
        params.append(entry)
    out = {"source": "Merge's exported HRIS OpenAPI, GET /hris/v1/employees (see conformance/openapi/employee_filters.py)",
           "parameters": params}
    with open("mergetest/testdata/openapi-employees-params.json", "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
