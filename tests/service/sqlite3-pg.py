#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright (C) 2026 The vouch authors
#
# "sqlite3 DB SQL" for a test written against vouchd on SQLite that runs on PostgreSQL
# (test-e2e-pg.sh puts this first in PATH as sqlite3): when DB is the path
# vouchd-2nodes.sh mapped to $VOUCHD_2NODES_DSN, the query goes to that database through
# psql, with the few SQLite spellings the tests use rewritten (json_extract, group_concat,
# ifnull, a subquery without an alias); any other call runs the real sqlite3.
import os
import re
import subprocess
import sys

REAL = "/usr/bin/sqlite3"


def mapped(path):
    try:
        with open(os.path.join(os.environ["VOUCHD_2NODES_DIR"], "db-path")) as f:
            return f.read().strip() == path
    except (KeyError, OSError):
        return False


def json_path(m):
    keys = m.group(2).split(".")[1:]
    return "(%s::json #>> '{%s}')" % (m.group(1), ",".join(keys))


def rewrite(sql):
    sql = re.sub(r"json_extract\((\w+), '(\$(?:\.\w+)+)'\)", json_path, sql)
    sql = re.sub(r"\bgroup_concat\(", "string_agg(", sql)
    sql = re.sub(r"\bifnull\(", "coalesce(", sql)
    # PostgreSQL 15 wants an alias on every subquery in FROM
    out, i = "", 0
    for m in re.finditer(r"FROM \(SELECT ", sql):
        depth, j = 1, m.end()
        while j < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        out += sql[i:j] + " AS sub"
        i = j
    return out + sql[i:]


def main():
    args = sys.argv[1:]
    if len(args) != 2 or args[0].startswith("-") or not mapped(args[0]):
        os.execv(REAL, [REAL] + args)
    sql = rewrite(args[1])
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", os.environ["VOUCHD_2NODES_DSN"], "-c", sql],
                       stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    sys.stdout.write(r.stdout)
    sys.exit(r.returncode)


main()
