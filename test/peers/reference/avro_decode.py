"""Decode gridgate's Avro binary records with fastavro, from the schemas alone.

stdin: {"schemas": DIR, "records": [{"kind": K, "avro": BASE64}, ...]}
stdout: {"fastavro": VERSION, "records": [DECODED, ...]}: each record as fastavro reads it with
schemas/K.avsc as writer schema (schemaless: gridgate writes no container file and no registry
framing). Bytes left over after a record are an error: the schema and the bytes must agree exactly.
"""
import base64
import io
import json
import sys

import fastavro


def plain_longs(schema):
    """The schema without logicalType: timestamp-micros read as the long it is (fastavro would make
    a datetime of it, to the microsecond anyway), as the JSON encoding writes it."""
    if isinstance(schema, dict):
        return {k: plain_longs(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [plain_longs(s) for s in schema]
    return schema


def main():
    request = json.load(sys.stdin)
    schemas = {}
    out = []
    for r in request["records"]:
        kind = r["kind"]
        if kind not in schemas:
            with open(f"{request['schemas']}/{kind}.avsc", encoding="utf-8") as f:
                schemas[kind] = fastavro.parse_schema(plain_longs(json.load(f)))
        raw = base64.b64decode(r["avro"])
        buf = io.BytesIO(raw)
        value = fastavro.schemaless_reader(buf, schemas[kind], None, return_record_name=False, handle_unicode_errors="strict")
        if buf.tell() != len(raw):
            raise SystemExit(f"{kind}: {len(raw) - buf.tell()} bytes left after the record")
        out.append(value)
    json.dump({"fastavro": fastavro.__version__, "records": out}, sys.stdout, default=str)


main()
