-- Nothing to do: the SQLite schema clusters orders by business unit in this version, which
-- PostgreSQL's heap tables do not offer; the version number is kept the same in both dialects.
SELECT 1;
