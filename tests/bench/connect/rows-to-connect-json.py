#!/usr/bin/env python3
"""Dump the rows of PostgreSQL tables as Kafka Connect records: JSON with
schemas (org.apache.kafka.connect.json.JsonConverter, schemas.enable=true),
one file per table, one record per line, ready for a console producer.

    rows-to-connect-json.py PG_URL OUTDIR TABLE...

Each column gets the Connect type a change-data-capture source (Debezium)
would give it, so that a JDBC sink writes the same value back:

    bigint/integer/smallint  int64/int32/int16
    real/double precision    float/double
    boolean, text            boolean, string
    date                     int32   org.apache.kafka.connect.data.Date (days)
    time                     int64   io.debezium.time.MicroTime (microseconds)
    timestamptz              string  io.debezium.time.ZonedTimestamp (ISO-8601)
    json/jsonb               string  io.debezium.data.Json
    numeric                  struct  io.debezium.data.VariableScaleDecimal
    text[]                   array of string

Any other type stops with an error: better no benchmark than a silent
conversion. Prints "TABLE ROWS BYTES" per table on stdout.
"""
import base64
import datetime
import decimal
import json
import os
import subprocess
import sys

EPOCH = datetime.date(1970, 1, 1)
SIMPLE = {
    "bigint": "int64",
    "integer": "int32",
    "smallint": "int16",
    "real": "float",
    "double precision": "double",
    "boolean": "boolean",
    "text": "string",
    "character varying": "string",
}


def psql(url, sql):
    """Run one query with psql; return its unaligned, tab-separated rows."""
    out = subprocess.run(
        ["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def conv_date(v):
    return (datetime.date.fromisoformat(v) - EPOCH).days


def conv_time(v):
    t = datetime.time.fromisoformat(v)
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000000 + t.microsecond


def conv_decimal(v):
    sign, digits, exp = decimal.Decimal(str(v)).as_tuple()
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    scale = max(0, -exp)
    if exp > 0:
        unscaled *= 10**exp
    nbytes = max(1, (unscaled.bit_length() + 8) // 8)  # room for the sign bit
    raw = unscaled.to_bytes(nbytes, "big", signed=True)
    return {"scale": scale, "value": base64.b64encode(raw).decode("ascii")}


def conv_json(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def column_type(table, name, data_type, udt):
    """Return (Connect schema of the field without name/optional, converter)."""
    if data_type in SIMPLE:
        return {"type": SIMPLE[data_type]}, None
    if data_type == "date":
        return {"type": "int32", "name": "org.apache.kafka.connect.data.Date",
                "version": 1}, conv_date
    if data_type == "time without time zone":
        return {"type": "int64", "name": "io.debezium.time.MicroTime",
                "version": 1}, conv_time
    if data_type == "timestamp with time zone":
        return {"type": "string", "name": "io.debezium.time.ZonedTimestamp",
                "version": 1}, None
    if data_type in ("json", "jsonb"):
        return {"type": "string", "name": "io.debezium.data.Json",
                "version": 1}, conv_json
    if data_type == "numeric":
        return {"type": "struct", "name": "io.debezium.data.VariableScaleDecimal",
                "version": 1, "fields": [
                    {"field": "scale", "type": "int32", "optional": False},
                    {"field": "value", "type": "bytes", "optional": False}]}, conv_decimal
    if data_type == "ARRAY" and udt == "_text":
        return {"type": "array", "items": {"type": "string", "optional": True}}, None
    sys.exit(f"rows-to-connect-json: {table}.{name}: no mapping for type {data_type} ({udt})")


def dump_table(url, outdir, table):
    cols = psql(url, "SELECT column_name, data_type, udt_name, is_nullable"
                     " FROM information_schema.columns WHERE table_schema = 'public'"
                     f" AND table_name = '{table}' AND is_generated = 'NEVER'"
                     " ORDER BY ordinal_position")  # generated columns (fts) are computed by PostgreSQL
    if not cols:
        sys.exit(f"rows-to-connect-json: no table {table}")
    fields, convs = [], []
    for name, data_type, udt, nullable in cols:
        schema, conv = column_type(table, name, data_type, udt)
        schema = dict(schema, field=name, optional=(nullable == "YES"))
        fields.append(schema)
        convs.append((name, conv))
    schema_s = json.dumps({"type": "struct", "name": f"minutes.{table}.Value",
                           "optional": False, "fields": fields},
                          separators=(",", ":"))
    head = '{"schema":' + schema_s + ',"payload":'
    proc = subprocess.Popen(
        ["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c",
         f"SELECT row_to_json(t) FROM {table} t ORDER BY id"],
        stdout=subprocess.PIPE, text=True, encoding="utf-8")
    rows = nbytes = 0
    with open(os.path.join(outdir, table + ".jsonl"), "w", encoding="utf-8") as out:
        for line in proc.stdout:
            row = json.loads(line, parse_float=decimal.Decimal)
            payload = {}
            for name, conv in convs:
                v = row[name]
                if isinstance(v, decimal.Decimal) and conv is not conv_decimal:
                    v = float(v)
                payload[name] = v if v is None or conv is None else conv(v)
            rec = head + json.dumps(payload, ensure_ascii=False,
                                    separators=(",", ":"), default=str) + "}\n"
            out.write(rec)
            rows += 1
            nbytes += len(rec.encode("utf-8"))
    if proc.wait() != 0:
        sys.exit(f"rows-to-connect-json: psql failed on {table}")
    print(table, rows, nbytes)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    url, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for table in sys.argv[3:]:
        dump_table(url, outdir, table)


if __name__ == "__main__":
    main()
