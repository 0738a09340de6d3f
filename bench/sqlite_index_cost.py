# What a UNIQUE index on a random key (the inbox's delivery_key, a SHA-256) costs one group commit in SQLite, in
# WAL mode with synchronous=FULL as the bot runs it. Not part of the bot or its tests; see docs/benchmarks.md.
# Usage: python3 bench/sqlite_index_cost.py [folder for the scratch database, default .]
import hashlib
import os
import sqlite3
import sys
import time

FOLDER = sys.argv[1] if len(sys.argv) > 1 else "."
PATH = os.path.join(FOLDER, "index-cost.db")
PAYLOAD = "x" * 700  # about the size of a stored webhook


def remove_database():
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(PATH + suffix):
            os.remove(PATH + suffix)


def key(n):
    return hashlib.sha256(str(n).encode()).hexdigest().upper()


def measure(unique_key, rows_before=200_000, batches=300, batch=22):
    """Milliseconds per commit of `batch` inserts, on a table that already holds `rows_before` rows."""
    remove_database()
    db = sqlite3.connect(PATH, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"CREATE TABLE e (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL {'UNIQUE' if unique_key else ''},"
               " payload TEXT NOT NULL, status TEXT, t TEXT)")
    db.execute("CREATE INDEX ix_due ON e (status, t)")
    insert = "INSERT INTO e (k, payload, status, t) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
    db.execute("BEGIN")
    for n in range(rows_before):
        db.execute(insert, (key(n), PAYLOAD, "done", f"{n:012d}"))
    db.execute("COMMIT")

    n = rows_before
    started = time.perf_counter()
    for _ in range(batches):
        db.execute("BEGIN")
        for _ in range(batch):
            n += 1
            db.execute(insert, (key(n), PAYLOAD, "pending", f"{n:012d}"))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    remove_database()
    return elapsed / batches * 1000


for unique_key in (True, False, True, False):
    print(f"UNIQUE random-key index: {'yes' if unique_key else 'no '} — {measure(unique_key):.2f} ms per 22-row commit")
