-- sqlite_1m.sql — the sqlite3 workload of bench/heap/run.sh: insert 1M rows
-- (in one transaction, into an in-memory database), index them, and query:
-- aggregates, a join, point lookups, a sort. The row count comes from the
-- `bench_n` table the runner creates first (so --quick can use fewer rows).
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT, payload TEXT);
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < (SELECT n FROM bench_n))
INSERT INTO t(id, k, name, payload)
  SELECT i, (i * 7919) % 100003, 'name-' || i, substr(printf('%024x%024x%024x%024x', i * 2654435761, i * 40503, i * 7919, i * 104729), 1, 16 + i % 80) FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(length(payload)) FROM t;
SELECT k % 100 AS g, count(*), avg(length(payload)) FROM t GROUP BY g ORDER BY g LIMIT 3;
SELECT count(*) FROM t a JOIN t b ON a.k = b.id WHERE a.id % 10 = 0;
SELECT count(*) FROM t WHERE name IN (SELECT 'name-' || (value * 37) FROM generate_series(1, 20000));
SELECT id, name FROM t ORDER BY payload DESC LIMIT 3;
